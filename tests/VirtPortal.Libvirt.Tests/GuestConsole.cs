using System.Diagnostics;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// What the tiny guest printed on its serial console, read from the log file libvirt keeps on the host
/// (see <see cref="LibvirtHostOptions.ConsoleLogDirectory"/>).
/// </summary>
public sealed class GuestConsole(string path)
{
    /// <summary>The kernel's first line: one per boot.</summary>
    public const string KernelBanner = "Linux version";

    /// <summary>What the guest's init prints once acpid listens for the power button.</summary>
    public const string Ready = "vp-tiny ready";

    /// <summary>The kernel's last line when the guest powers itself off (on the power button, for a reboot too).</summary>
    public const string PowerDown = "reboot: Power down";

    public string Path { get; } = path;

    /// <summary>virtlogd holds the file open for writing, so it is read with sharing.</summary>
    public string Read()
    {
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    public int Count(string text) => Occurrences(Read(), text);

    /// <summary>Polls the log until <paramref name="done"/> holds; fails with the log's tail after <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan> WaitForAsync(Func<string, bool> done, string what, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (!await WaitUntilAsync(done, timeout, ct))
            Assert.Fail($"The guest's console did not show {what} within {timeout.TotalSeconds:F0} s. Its end:\n{Tail(Read())}");
        return clock.Elapsed;
    }

    /// <summary>Polls the log until <paramref name="done"/> holds (true) or <paramref name="timeout"/> passes (false).</summary>
    public async Task<bool> WaitUntilAsync(Func<string, bool> done, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!done(Read()))
        {
            if (clock.Elapsed > timeout)
                return false;
            await Task.Delay(100, ct);
        }

        return true;
    }

    public Task<TimeSpan> WaitForCountAsync(string text, int count, TimeSpan timeout, CancellationToken ct) =>
        WaitForAsync(log => Occurrences(log, text) >= count, $"'{text}' {count} time(s)", timeout, ct);

    public static int Occurrences(string log, string text)
    {
        var count = 0;
        for (var at = log.IndexOf(text, StringComparison.Ordinal); at >= 0; at = log.IndexOf(text, at + text.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];
}
