using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VirtPortal.LatencyBench;

/// <summary>A lifecycle event as <c>virsh event --timestamp</c> printed it: libvirt's own emission, seen by a second client.</summary>
internal sealed record LibvirtEvent(double AtMs, string Event, string Line);

/// <summary>
/// <c>virsh event --domain D --loop --event lifecycle --timestamp</c> beside the portal: virsh stamps each
/// event when its callback runs, so the time is when libvirtd delivered it to a client, the same moment the
/// portal's own subscription can first see it.
/// </summary>
internal sealed partial class VirshEvents : IDisposable
{
    private readonly Process process;
    private readonly List<LibvirtEvent> events = [];
    private readonly List<string> unparsed = [];

    private VirshEvents(Process process) => this.process = process;

    public static VirshEvents Start(string uri, string domain)
    {
        var start = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", uri, "event", "--domain", domain, "--loop", "--event", "lifecycle", "--timestamp" })
            start.ArgumentList.Add(a);
        var process = new Process { StartInfo = start };
        var watcher = new VirshEvents(process);
        process.OutputDataReceived += (_, e) => watcher.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => watcher.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return watcher;
    }

    public IReadOnlyList<LibvirtEvent> Events
    {
        get
        {
            lock (events)
                return [.. events];
        }
    }

    public IReadOnlyList<string> Unparsed
    {
        get
        {
            lock (events)
                return [.. unparsed];
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5_000);
        }

        process.Dispose();
    }

    // "2026-12-02 21:58:03.456+0000: event 'lifecycle' for domain 'vp-…': Suspended Paused"
    [GeneratedRegex(@"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})([+-]\d{4}): event 'lifecycle' for domain '[^']*': (\w+)")]
    private static partial Regex EventLine();

    private void OnLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
            return;
        var match = EventLine().Match(line);
        lock (events)
        {
            if (!match.Success)
            {
                unparsed.Add(line);
                return;
            }

            var offset = match.Groups[2].Value;
            var at = DateTimeOffset.ParseExact(match.Groups[1].Value + offset[..3] + ":" + offset[3..], "yyyy-MM-dd HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
            events.Add(new LibvirtEvent(at.ToUnixTimeMilliseconds(), match.Groups[3].Value, line));
        }
    }
}
