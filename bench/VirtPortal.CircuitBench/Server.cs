using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VirtPortal.BenchKit;

namespace VirtPortal.CircuitBench;

/// <summary>A built Blazor app run as `dotnet App.dll` (Development, so static web assets are served) on a free loopback port.</summary>
internal sealed class Server : IDisposable
{
    private readonly Process process;

    private Server(Process process, string baseUrl)
    {
        this.process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public int Pid => process.Id;

    public static async Task<Server> StartAsync(string contentRoot, string dll, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = contentRoot, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "--urls", url })
            start.ArgumentList.Add(a);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (k, v) in environment)
            start.Environment[k] = v;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.WriteLine(l); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.WriteLine(l); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new Server(process, url);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (process.HasExited)
                throw new BenchException($"{dll} exited with {process.ExitCode}; see {logPath}");
            try
            {
                using var r = await http.GetAsync(new Uri(url + "/"));
                if (r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found or HttpStatusCode.Redirect)
                    return server;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        server.Dispose();
        throw new BenchException($"{dll} did not answer within 3 min; see {logPath}");
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The server process seen from outside: dotnet-gcdump (forces a full blocking GC, then walks the live heap) and /proc.</summary>
internal static class Probe
{
    public sealed record Sample(long HeapBytes, long RssBytes, string DumpPath);

    public static async Task<Sample> SampleAsync(string gcdump, int pid, string dumpPath)
    {
        var collect = await Commands.RunAsync(gcdump, ["collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", dumpPath], TimeSpan.FromMinutes(3));
        if (!collect.Ok)
            throw new BenchException($"dotnet-gcdump collect failed: {collect.Output} {collect.Error}");
        var rss = Rss(pid);
        var report = await Commands.RunAsync(gcdump, ["report", dumpPath], TimeSpan.FromMinutes(3));
        var line = report.Output.Split('\n').FirstOrDefault(l => l.Contains("GC Heap bytes", StringComparison.Ordinal))
            ?? throw new BenchException($"dotnet-gcdump report: no total in {report.Output[..Math.Min(500, report.Output.Length)]}");
        var heap = long.Parse(line.Trim().Split(' ')[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        return new Sample(heap, rss, dumpPath);
    }

    public static long Rss(int pid) =>
        1024 * long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>User + system CPU time of the process, in ms (clock ticks of 10 ms).</summary>
    public static double CpuMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) * 10.0;
    }
}
