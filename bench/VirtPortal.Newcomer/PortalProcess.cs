using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

using VirtPortal.BenchKit;

namespace VirtPortal.Newcomer;

/// <summary>
/// The README's `dotnet run --project src/VirtPortal.Web` on a free loopback port, its output kept in a
/// log with the time of each line. Times the start: when the portal's own process appears (restore and
/// build done), when it says it listens, and when GET /Account/Login first answers 200.
/// </summary>
internal sealed class PortalProcess : IDisposable
{
    private readonly Process process;
    private readonly Stopwatch clock;
    private readonly StreamWriter log;
    private readonly Lock logLock = new();
    private int? appPid;

    private PortalProcess(Process process, Stopwatch clock, StreamWriter log, string baseUrl, string logPath)
    {
        this.process = process;
        this.clock = clock;
        this.log = log;
        BaseUrl = baseUrl;
        LogPath = logPath;
    }

    public string BaseUrl { get; }

    public string LogPath { get; }

    /// <summary>dotnet run → the portal's own process exists (dotnet run's restore and build are done).</summary>
    public TimeSpan? AppStarted { get; private set; }

    /// <summary>dotnet run → Kestrel's "Now listening on" line.</summary>
    public TimeSpan? Listening { get; private set; }

    public static PortalProcess Start(string workTree, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var baseUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workTree,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "run", "--project", "src/VirtPortal.Web", "--urls", baseUrl })
            start.ArgumentList.Add(argument);
        // The bench's own settings must not leak into the newcomer's portal.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var clock = Stopwatch.StartNew();
        var process = new Process { StartInfo = start };
        var portal = new PortalProcess(process, clock, log, baseUrl, logPath);
        process.OutputDataReceived += (_, e) => portal.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => portal.OnLine(e.Data);
        if (!process.Start())
            throw new BenchException("dotnet run did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return portal;
    }

    /// <summary>Polls GET /Account/Login until it answers 200: the time a newcomer waits for the sign-in page.</summary>
    public async Task<TimeSpan> WaitForSignInPageAsync(TimeSpan timeout)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new BenchException($"dotnet run exited with {process.ExitCode} before the sign-in page answered; see {LogPath}:\n{Tail()}");
            if (AppStarted is null && FindAppPid() is { } pid)
            {
                appPid = pid;
                AppStarted = clock.Elapsed;
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseUrl + "/Account/Login"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var answered = clock.Elapsed;
                    AppStarted ??= answered;
                    return answered;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but busy starting; ask again.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"the sign-in page did not answer within {timeout.TotalMinutes:0} min; see {LogPath}:\n{Tail()}"));
    }

    /// <summary>Stops the portal as Ctrl+C would (SIGTERM to its own process), then dotnet run ends with it.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
            return;
        var pid = appPid ?? FindAppPid();
        if (pid is { } app)
            await Commands.RunAsync("kill", ["-TERM", app.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Note("the portal did not stop within 30 s of SIGTERM; killing dotnet run's process tree");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.Dispose();
        lock (logLock)
            log.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        var at = clock.Elapsed;
        if (Listening is null && line.Contains("Now listening on:", StringComparison.Ordinal))
            Listening = at;
        lock (logLock)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{at.TotalSeconds,8:F3} {line}"));
    }

    private void Note(string message) => OnLine("[bench] " + message);

    private string Tail()
    {
        lock (logLock)
            log.Flush();
        return string.Join('\n', File.ReadAllLines(LogPath).TakeLast(25));
    }

    /// <summary>
    /// The portal's own process among dotnet run's descendants: the app host <c>VirtPortal.Web</c> or
    /// <c>dotnet VirtPortal.Web.dll</c>, not MSBuild or the compiler.
    /// </summary>
    private int? FindAppPid()
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        foreach (var (pid, _) in parents)
        {
            if (!DescendsFrom(pid, process.Id, parents))
                continue;
            try
            {
                var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (argv.Length > 0 && (argv[0].EndsWith("/VirtPortal.Web", StringComparison.Ordinal)
                    || (Path.GetFileName(argv[0]) == "dotnet" && argv.Length > 1 && argv[1].EndsWith("VirtPortal.Web.dll", StringComparison.Ordinal))))
                    return pid;
            }
            catch (IOException)
            {
            }
        }

        return null;
    }

    private static bool DescendsFrom(int pid, int ancestor, Dictionary<int, int> parents)
    {
        for (var depth = 0; depth < 16 && parents.TryGetValue(pid, out var parent); depth++)
        {
            if (parent == ancestor)
                return true;
            pid = parent;
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
