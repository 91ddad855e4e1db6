using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VirtPortal.FanoutBench;

/// <summary>
/// The portal's Release build (<c>dotnet VirtPortal.Web.dll</c>) on a free loopback port, pinned to one core
/// with taskset, its output kept in a log; reads its CPU time and RSS from /proc.
/// </summary>
internal sealed class Portal : IDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;
    private readonly Lock logLock = new();
    private int warnings;
    private int errors;

    private Portal(Process process, StreamWriter log, Uri baseUrl)
    {
        this.process = process;
        this.log = log;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public int Pid => process.Id;

    public int Warnings => warnings;

    public int Errors => errors;

    public static Portal Start(string repo, string cpu, IReadOnlyDictionary<string, string?> settings, string logPath)
    {
        var web = Path.Combine(repo, "src", "VirtPortal.Web");
        var dll = Path.Combine(web, "bin", "Release", "net10.0", "VirtPortal.Web.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is missing: build the solution in Release first (dotnet build VirtPortal.sln -c Release).");
        var baseUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}"));
        var start = new ProcessStartInfo("taskset") { WorkingDirectory = web, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", cpu, "dotnet", dll, "--urls", baseUrl.GetLeftPart(UriPartial.Authority) })
            start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var process = new Process { StartInfo = start };
        var portal = new Portal(process, new StreamWriter(logPath) { AutoFlush = true }, baseUrl);
        process.OutputDataReceived += (_, e) => portal.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => portal.OnLine(e.Data);
        if (!process.Start())
            throw new InvalidOperationException("the portal did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return portal;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the portal exited with {process.ExitCode}; see its log");
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUrl, "/Account/Login"));
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the portal did not answer the sign-in page in time");
    }

    /// <summary>utime + stime of the portal's process, in seconds (USER_HZ 100).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>VmRSS and thread count from /proc/PID/status.</summary>
    public (long RssBytes, int Threads) Memory()
    {
        long rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                threads = int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1].Trim(), CultureInfo.InvariantCulture);
        }

        return (rss, threads);
    }

    public async Task StopAsync()
    {
        if (process.HasExited)
            return;
        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
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
        if (line.StartsWith("warn:", StringComparison.Ordinal))
            Interlocked.Increment(ref warnings);
        if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
            Interlocked.Increment(ref errors);
        lock (logLock)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
