using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;

namespace VirtPortal.Recovery.Harness;

/// <summary>
/// The real portal as a child process: <c>dotnet src/VirtPortal.Web/bin/CONFIG/net10.0/VirtPortal.Web.dll</c>,
/// configured only through its environment. It can be SIGKILLed, or seen to die by itself (the fault
/// injection kills it with SIGKILL). Every line it writes goes to the scenario's <see cref="HarnessLog"/>.
/// </summary>
public sealed partial class PortalProcess : IAsyncDisposable
{
    /// <summary>What .NET reports as the exit code of a child killed by SIGKILL (128 + 9).</summary>
    public const int SigkillExitCode = 137;

    private readonly Process process;
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PortalProcess(Process process, int generation, HarnessLog log)
    {
        this.process = process;
        Generation = generation;
        StartedAt = DateTimeOffset.UtcNow;
        process.OutputDataReceived += (_, e) => OnLine("out", e.Data, log);
        process.ErrorDataReceived += (_, e) => OnLine("err", e.Data, log);
        process.Exited += (_, _) =>
        {
            // Exited can fire before the last output lines are read; WaitForExit drains them first.
            process.WaitForExit();
            exited.TrySetResult(process.ExitCode);
            listening.TrySetException(new InvalidOperationException(
                $"portal#{Generation} exited with code {process.ExitCode} before it listened; see {log.Path}"));
        };
        process.EnableRaisingEvents = true;
    }

    /// <summary>1 for the first process of a scenario, then 2, 3 … after each restart.</summary>
    public int Generation { get; }

    public int Pid => process.Id;

    public DateTimeOffset StartedAt { get; }

    /// <summary>Completes with the exit code once the process is gone.</summary>
    public Task<int> Exited => exited.Task;

    public bool HasExited => exited.Task.IsCompleted;

    /// <summary>Where it listens, known once it logged "Now listening on:".</summary>
    public Uri? BaseAddress => listening.Task.IsCompletedSuccessfully ? listening.Task.Result : null;

    /// <summary>
    /// Completes when it logs "Now listening on:". Its provisioning worker has started by then: the web
    /// host starts hosted services before the server.
    /// </summary>
    public Task<Uri> Listening => listening.Task;

    /// <summary>Starts the portal with <paramref name="settings"/> (configuration keys, ':' separated) and returns at once.</summary>
    public static PortalProcess Launch(int generation, IReadOnlyDictionary<string, string> settings, HarnessLog log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var web = Path.Combine(RepositoryRoot(), "src", "VirtPortal.Web");
        var dll = Path.Combine(web, "bin", BuildConfiguration(), "net10.0", "VirtPortal.Web.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution in {BuildConfiguration()} first.");

        // Through bash, which closes every inherited descriptor but stdio and then becomes dotnet (same
        // pid): a portal left behind by a dead test run must not hold the flock its runner was started under.
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-c", """for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$0" "$@" """, "dotnet", dll })
            start.ArgumentList.Add(argument);
        // The test runner's own listen settings must not leak into the portal.
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
            start.Environment.Remove(inherited);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        // One line per log entry, stamped by the portal: easier to read next to the harness's lines.
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var child = new Process { StartInfo = start };
        var portal = new PortalProcess(child, generation, log);
        if (!child.Start())
            throw new InvalidOperationException("dotnet did not start");
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        log.Say($"portal#{generation} started, pid {child.Id}{Describe(settings)}");
        return portal;
    }

    /// <summary>Waits until it listens and <c>/healthz</c> answers 200; fails when it exits first or <paramref name="bound"/> passes.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan bound, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(bound);
        try
        {
            var address = await listening.Task.WaitAsync(timeout.Token);
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
            while (true)
            {
                if (HasExited)
                    throw new InvalidOperationException($"portal#{Generation} exited with code {await Exited} before /healthz answered");
                try
                {
                    using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative), timeout.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                        return;
                }
                catch (HttpRequestException)
                {
                    // Not accepting connections yet.
                }

                await Task.Delay(50, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"portal#{Generation} was not ready within {bound.TotalSeconds:0} s");
        }
    }

    /// <summary>SIGKILL, as the kernel's OOM killer or a pulled plug would end it; returns once it is gone.</summary>
    public async Task KillAsync()
    {
        if (!HasExited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the check and the kill.
            }
        }

        await Exited;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }

    private void OnLine(string stream, string? line, HarnessLog log)
    {
        if (line is null)
            return;
        log.Portal(Generation, SafePid(), stream, line);
        if (!listening.Task.IsCompleted && ListeningLine().Match(line) is { Success: true } match)
            listening.TrySetResult(new Uri(match.Groups[1].Value.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    private int SafePid()
    {
        try
        {
            return process.Id;
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }

    private static string Describe(IReadOnlyDictionary<string, string> settings)
    {
        if (settings.GetValueOrDefault("FaultInjection:KillAt") is not { Length: > 0 } step)
            return "";
        return $", FaultInjection:KillAt={step}, KillOnHit={settings.GetValueOrDefault("FaultInjection:KillOnHit", "1")}";
    }

    /// <summary>The folder holding VirtPortal.sln, found by walking up from this assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "VirtPortal.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException($"No VirtPortal.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>Debug or Release: whatever this assembly was built in, so the portal under test is the same build.</summary>
    public static string BuildConfiguration() =>
        typeof(PortalProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } configuration
            ? configuration
            : "Debug";

    [GeneratedRegex(@"Now listening on: (https?://\S+)")]
    private static partial Regex ListeningLine();
}
