using System.Diagnostics;
using System.Globalization;
using System.Net;
using VirtPortal.BenchKit;
using VirtPortal.Core.Demo;
using VirtPortal.FanoutBench;

// P2, fan-out: VMs on the simulated host sampled at 1 Hz, their metrics delivered over /hubs/live to hub
// clients spread over several 127.0.0.x source addresses; server CPU and memory, delivery latency, drops.
// Usage: dotnet run -c Release --project bench/VirtPortal.FanoutBench [-- --vms 500 --clients 2000
//   --sources 8 --warmup 20 --window 60 --portal-cpu 0 --client-cpu 1 --no-doc --keep
//   --portal-setting Key=Value (one more portal setting, for experiments)]
// Build the solution in Release first: the portal runs from src/VirtPortal.Web/bin/Release.
var options = Options.Parse(args);
var ct = CancellationToken.None;
var repo = Repository.FindRoot();
var load = File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Aggregate((a, b) => a + " " + b);
var commit = Run("git", "-C", repo, "rev-parse", "--short", "HEAD");
var started = DateTimeOffset.UtcNow;
// The clients run on the other core than the portal, so the portal's CPU is its own.
Run("taskset", "-a", "-cp", options.ClientCpu, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
var data = Directory.CreateTempSubdirectory("virtportal-fanout-");
var logPath = Path.Combine(data.FullName, "portal.log");
Console.Error.WriteLine($"data {data.FullName}; load {load}");
PortalProcess? portal = null;
try
{
    var seedClock = Stopwatch.StartNew();
    var vmIds = await Seed.RunAsync(data.FullName, options.Vms, ct);
    var seedSeconds = seedClock.Elapsed.TotalSeconds;

    var settings = Seed.Settings(data.FullName);
    foreach (var extra in options.PortalSettings)
        settings[extra[..extra.IndexOf('=', StringComparison.Ordinal)]] = extra[(extra.IndexOf('=', StringComparison.Ordinal) + 1)..];
    var portalStarted = DateTimeOffset.UtcNow;
    portal = PortalProcess.Start(new PortalLaunch
    {
        Repository = repo,
        Settings = settings.ToDictionary(s => s.Key, s => s.Value ?? ""),
        // Production: the clients use only the hub, so the pages' static web assets need not be served.
        Environment = "Production",
        Wrapper = ["taskset", "-c", options.PortalCpu],
        LogPath = logPath,
    });
    await portal.WaitReadyAsync(TimeSpan.FromMinutes(2));
    // The collector's first samples set baselines; let it run before the "before clients" figure.
    await Task.Delay(TimeSpan.FromSeconds(10), ct);
    var cpuIdle0 = Machine.CpuSeconds(portal.Pid);
    var idleClock = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(10), ct);
    var idleCores = (Machine.CpuSeconds(portal.Pid) - cpuIdle0) / idleClock.Elapsed.TotalSeconds;
    var (rssBefore, threadsBefore) = Memory(portal.Pid);
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"portal up, pid {portal.Pid}: RSS {rssBefore >> 20} MiB, {idleCores:F3} cores with no clients"));

    // Sessions: the demo member and the demo owner (both of Acme Research), signed in once per source address.
    var sources = Enumerable.Range(2, options.Sources).Select(i => IPAddress.Parse($"127.0.0.{i}")).ToArray();
    string[] users = [DemoAccounts.All[0].Email, DemoAccounts.All[1].Email];
    var sessions = new Dictionary<(int, int), CookieContainer>();
    for (var s = 0; s < sources.Length; s++)
    {
        for (var u = 0; u < users.Length; u++)
            sessions[(s, u)] = await FanoutClient.SignInAsync(portal.BaseUrl, sources[s], users[u], "virtportal-demo", ct);
    }

    var invokers = sources.Select(FanoutClient.InvokerFrom).ToArray();
    var tally = new Tally();
    var clients = Enumerable.Range(0, options.Clients)
        .Select(i => new FanoutClient(vmIds[i % vmIds.Count], sources[i % sources.Length], sessions[(i % sources.Length, i / sources.Length % users.Length)]))
        .ToList();
    var hub = new Uri(portal.BaseUrl, "/hubs/live");
    var connectClock = Stopwatch.StartNew();
    var failures = new List<string>();
    using (var gate = new SemaphoreSlim(options.Parallel))
    {
        await Task.WhenAll(clients.Select(async (c, i) =>
        {
            await gate.WaitAsync(ct);
            try
            {
                await c.StartAsync(hub, invokers[i % invokers.Length], tally, ct);
            }
#pragma warning disable CA1031 // Every failure is counted and reported.
            catch (Exception e)
#pragma warning restore CA1031
            {
                lock (failures)
                    failures.Add(e.GetType().Name + ": " + e.Message);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    var connectSeconds = connectClock.Elapsed.TotalSeconds;
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clients.Count - failures.Count} of {clients.Count} clients connected and subscribed in {connectSeconds:F1} s; warm-up {options.Warmup} s"));
    await Task.Delay(TimeSpan.FromSeconds(options.Warmup), ct);

    var (rssConnected, _) = Memory(portal.Pid);
    var clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var cpu0 = Machine.CpuSeconds(portal.Pid);
    var windowClock = Stopwatch.StartNew();
    var windowStart = DateTimeOffset.UtcNow;
    tally.WindowStart = windowStart;
    tally.WindowEnd = windowStart.AddSeconds(options.Window);
    long rssPeak = rssConnected;
    while (windowClock.Elapsed.TotalSeconds < options.Window)
    {
        await Task.Delay(1000, ct);
        rssPeak = Math.Max(rssPeak, Memory(portal.Pid).RssBytes);
    }

    var cpu1 = Machine.CpuSeconds(portal.Pid);
    var windowSeconds = windowClock.Elapsed.TotalSeconds;
    var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu0).TotalSeconds / windowSeconds;
    var (rssAfter, threadsAfter) = Memory(portal.Pid);
    // Points sampled inside the window that are still on their way.
    await Task.Delay(TimeSpan.FromSeconds(5), ct);
    var managed = await ManagedHeapAsync(portal.BaseUrl);

    var connected = clients.Where(c => c.Connection?.State == Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected).ToList();
    int ticks;
    List<double> latencies, spacings;
    lock (tally)
    {
        ticks = tally.Ticks.Count;
        latencies = [.. tally.Latencies.Order()];
        spacings = [.. tally.Spacings.Order()];
        foreach (var (at, slowest) in tally.SlowestPerTick.OrderBy(t => t.Key))
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tick {at:HH:mm:ss.fff} (+{(at - portalStarted).TotalSeconds:F1} s after the portal's start): slowest delivery {slowest:F0} ms"));
    }

    var subscribed = clients.Count - failures.Count;
    long expected = (long)subscribed * ticks;
    long received = clients.Sum(c => { lock (c.Received) return (long)c.Received.Count; });
    var result = new Result(
        options, commit, load, started, seedSeconds, connectSeconds, windowSeconds, idleCores, (cpu1 - cpu0) / windowSeconds, clientCpu,
        rssBefore, rssConnected, rssAfter, rssPeak, threadsBefore, threadsAfter, managed, subscribed, failures, connected.Count,
        tally.Closed, tally.Reconnecting, ticks, expected, received, latencies, spacings, portal.Warnings, portal.Errors);

    await Task.WhenAll(clients.Where(c => c.Connection is not null).Select(c => c.Connection!.DisposeAsync().AsTask()));
    foreach (var invoker in invokers)
        invoker.Dispose();
    await portal.StopAsync();

    var report = Report.Markdown(result);
    Console.WriteLine(report);
    if (!options.NoDoc)
        Report.UpdateDocument(Path.Combine(repo, "docs", "PERFORMANCE.md"), report);
    if (result.Failures.Count > 0)
        Console.Error.WriteLine("connect failures (first 5): " + string.Join(" | ", result.Failures.Take(5)));
    Console.Error.WriteLine($"portal log: {logPath} (kept with --keep)");
}
finally
{
    if (portal is not null)
    {
        await portal.StopAsync();
        portal.Dispose();
    }

    if (!options.Keep)
        data.Delete(recursive: true);
}

// taskset execs the portal, so its pid is the portal's.
static (long RssBytes, int Threads) Memory(int pid) => (Machine.RssBytes(pid), Machine.Threads(pid));

static string Run(string file, params string[] arguments)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in arguments)
        start.ArgumentList.Add(a);
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd().Trim();
    process.WaitForExit();
    return output;
}

// The portal's /metrics (loopback may read it): the managed heap if it exports dotnet's own gauges.
static async Task<double?> ManagedHeapAsync(Uri baseUrl)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    try
    {
        var text = await http.GetStringAsync(new Uri(baseUrl, "/metrics"));
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("dotnet_total_memory_bytes ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }
    catch (HttpRequestException)
    {
        return null;
    }
}

namespace VirtPortal.FanoutBench
{
    internal sealed record Options(int Vms, int Clients, int Sources, int Warmup, int Window, string PortalCpu, string ClientCpu, int Parallel, bool NoDoc, bool Keep, IReadOnlyList<string> PortalSettings)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(500, 2000, 8, 20, 60, "0", "1", 50, false, false, []);
            for (var i = 0; i < args.Length; i++)
            {
                int Next() => int.Parse(args[++i], CultureInfo.InvariantCulture);
                o = args[i] switch
                {
                    "--vms" => o with { Vms = Next() },
                    "--clients" => o with { Clients = Next() },
                    "--sources" => o with { Sources = Next() },
                    "--warmup" => o with { Warmup = Next() },
                    "--window" => o with { Window = Next() },
                    "--parallel" => o with { Parallel = Next() },
                    "--portal-cpu" => o with { PortalCpu = args[++i] },
                    "--client-cpu" => o with { ClientCpu = args[++i] },
                    "--no-doc" => o with { NoDoc = true },
                    "--keep" => o with { Keep = true },
                    "--portal-setting" => o with { PortalSettings = [.. o.PortalSettings, args[++i]] },
                    _ => throw new ArgumentException($"unknown argument {args[i]}"),
                };
            }

            return o;
        }
    }

    internal sealed record Result(
        Options Options, string Commit, string Load, DateTimeOffset Started, double SeedSeconds, double ConnectSeconds, double WindowSeconds,
        double IdleCores, double Cores, double ClientCores, long RssBefore, long RssConnected, long RssAfter, long RssPeak, int ThreadsBefore, int ThreadsAfter,
        double? ManagedHeap, int Subscribed, IReadOnlyList<string> Failures, int ConnectedAtEnd, int Closed, int Reconnecting,
        int Ticks, long Expected, long Received, List<double> Latencies, List<double> Spacings, int PortalWarnings, int PortalErrors);
}
