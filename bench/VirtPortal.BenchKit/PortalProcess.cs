using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VirtPortal.BenchKit;

/// <summary>How to start the portal: which build, in which environment, with which settings.</summary>
public sealed record PortalLaunch
{
    /// <summary>The checkout; the portal runs from src/VirtPortal.Web/bin/Release/net10.0 in it.</summary>
    public required string Repository { get; init; }

    /// <summary>ASP.NET settings as <c>Section:Key</c> or <c>Section__Key</c>; passed as environment variables.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Development serves the unpublished build's static web assets (pages need them); Production does not,
    /// which suits benches that only use the hub.
    /// </summary>
    public string Environment { get; init; } = "Development";

    /// <summary>A command the portal runs under, e.g. <c>["taskset", "-c", "0"]</c>; empty for none.</summary>
    public IReadOnlyList<string> Wrapper { get; init; } = [];

    /// <summary>Where the portal's output goes, one line each with the UTC time the bench read it.</summary>
    public required string LogPath { get; init; }

    /// <summary>Called with every output line and the time it was read; for benches that time the portal's own log.</summary>
    public Action<DateTimeOffset, string>? OnLine { get; init; }
}

/// <summary>
/// The portal's Release build (<c>dotnet VirtPortal.Web.dll</c>) on a free loopback port, its output kept in a
/// log with the time of each line, stopped with SIGTERM as Ctrl+C would.
/// </summary>
public sealed class PortalProcess : IDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;
    private readonly Lock logLock = new();
    private readonly Action<DateTimeOffset, string>? onLine;
    private int warnings;
    private int errors;

    private PortalProcess(Process process, StreamWriter log, Uri baseUrl, string logPath, Action<DateTimeOffset, string>? onLine)
    {
        this.process = process;
        this.log = log;
        this.onLine = onLine;
        BaseUrl = baseUrl;
        LogPath = logPath;
    }

    /// <summary>http://127.0.0.1:PORT, no trailing slash in its authority.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The origin browsers send (scheme, host and port), for the live hub's origin check.</summary>
    public string Origin => BaseUrl.GetLeftPart(UriPartial.Authority);

    public string LogPath { get; }

    /// <summary>The started process: the portal itself, or the wrapper that runs it.</summary>
    public int Pid => process.Id;

    /// <summary>Log lines at warn / at fail or crit so far.</summary>
    public int Warnings => warnings;

    public int Errors => errors;

    public static PortalProcess Start(PortalLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var web = Path.Combine(launch.Repository, "src", "VirtPortal.Web");
        var dll = Path.Combine(web, "bin", "Release", "net10.0", "VirtPortal.Web.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution in Release first (dotnet build VirtPortal.sln -c Release).");
        var baseUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}"));
        string[] command = [.. launch.Wrapper, "dotnet", dll, "--urls", baseUrl.GetLeftPart(UriPartial.Authority)];
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        // The bench's own environment must not choose the portal's.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = launch.Environment;
        // A bench signs in and calls from one address: the portal's rate limits must not be what it measures.
        start.Environment["Api__RateLimits__SignInPerAddress"] = "1000000";
        start.Environment["Api__RateLimits__PerToken"] = "1000000";
        start.Environment["Api__RateLimits__PerUser"] = "1000000";
        foreach (var (key, value) in launch.Settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var process = new Process { StartInfo = start };
        var portal = new PortalProcess(process, new StreamWriter(launch.LogPath) { AutoFlush = true }, baseUrl, launch.LogPath, launch.OnLine);
        process.OutputDataReceived += (_, e) => portal.Line(e.Data);
        process.ErrorDataReceived += (_, e) => portal.Line(e.Data);
        if (!process.Start())
            throw new InvalidOperationException("the portal did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return portal;
    }

    /// <summary>Polls GET /Account/Login until it answers 200; returns how long that took.</summary>
    public async Task<TimeSpan> WaitReadyAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the portal exited with {process.ExitCode} before it answered; see {LogPath}:\n{Tail()}");
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUrl, "/Account/Login"), ct);
                if (response.StatusCode == HttpStatusCode.OK)
                    return clock.Elapsed;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // Listening but busy starting; ask again.
            }

            await Task.Delay(200, ct);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"the portal did not answer the sign-in page within {timeout.TotalSeconds:0} s; see {LogPath}:\n{Tail()}"));
    }

    /// <summary>SIGTERM, then up to 30 s for a clean stop before the process tree is killed.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
            return;
        await Commands.RunAsync("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Line("[bench] the portal did not stop within 30 s of SIGTERM; killing its process tree");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Stops the portal (<see cref="StopAsync"/>), disposes it, and keeps its log as logs/portal.log next to
    /// the bench's binaries, where the bench's own temp directory does not take it along.
    /// </summary>
    public async Task StopAndKeepLogAsync()
    {
        await StopAsync();
        Dispose();
        var logs = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "logs")).FullName;
        File.Copy(LogPath, Path.Combine(logs, "portal.log"), overwrite: true);
        Console.Error.WriteLine($"portal log kept in {Path.Combine(logs, "portal.log")}");
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process.Dispose();
        lock (logLock)
            log.Dispose();
    }

    /// <summary>The last lines of the log, for an error message.</summary>
    public string Tail(int lines = 25)
    {
        lock (logLock)
            log.Flush();
        using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var all = new List<string>();
        while (reader.ReadLine() is { } l)
            all.Add(l);
        return string.Join('\n', all.TakeLast(lines));
    }

    private void Line(string? line)
    {
        if (line is null)
            return;
        var at = DateTimeOffset.UtcNow;
        switch (Level(line))
        {
            case "warn:":
                Interlocked.Increment(ref warnings);
                break;
            case "fail:" or "crit:":
                Interlocked.Increment(ref errors);
                break;
        }

        lock (logLock)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{at:HH:mm:ss.fff} {line}"));
        onLine?.Invoke(at, line);
    }

    /// <summary>The console logger's level word: the line's first word, or its second after a timestamp (Logging:Console:FormatterOptions:TimestampFormat).</summary>
    private static string? Level(string line)
    {
        var words = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 0 ? null
            : words[0] is "warn:" or "fail:" or "crit:" or "info:" or "dbug:" or "trce:" ? words[0]
            : words.Length > 1 && char.IsAsciiDigit(line[0]) ? words[1] : null;
    }

    /// <summary>A loopback port nobody listens on now (the kernel's choice of ephemeral port).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
