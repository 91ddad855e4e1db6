using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using VirtPortal.BenchKit;
using VirtPortal.CircuitBench;
using VirtPortal.Core.Data;

// P3, circuit memory. Starts the real portal (Release build, temp data dir, demo mode, simulated host,
// Monitoring__Interval=00:00:01) and a bare `dotnet new blazor` app, opens N Blazor Server circuits in
// headless Chromium per page, and measures the server process from outside: the live managed heap after
// the full GC that dotnet-gcdump forces, and VmRSS. Per circuit = (N circuits − 0 circuits) / N. Also the
// server's CPU per circuit-second with the circuits open (what a 1 Hz chart update costs).
//
// Usage: dotnet run -c Release --project bench/VirtPortal.CircuitBench -- [--n 30,60] [--gcdump PATH] [--no-doc] [--heapwalk PAGES]
//   --n LIST      circuit counts per page (default 30,60)
//   --heapwalk PAGES  instead of the measurement: a ClrMD heap walk of the portal with 0 and then N circuits
//                 (the first count of --n) open on each listed page (tenant, home, vm), printing where the
//                 per-circuit bytes go by owner and by type (see HeapWalk.cs); no bare app, no doc update
//   --html DIR    with --heapwalk: save each page's rendered body (app shell and popover provider, once interactive) to DIR/PAGE.html,
//                 to diff what users see before and after a change
//   --gcdump PATH the dotnet-gcdump tool (default: dotnet-gcdump on PATH; install with
//                 `dotnet tool install dotnet-gcdump --version 10.0.750501 --tool-path DIR`)
//   --no-doc      print the report only; do not update docs/PERFORMANCE.md
// Needs Debian's Chromium at /usr/bin/chromium.
var counts = new List<int> { 30, 60 };
var gcdump = "dotnet-gcdump";
var noDoc = false;
string[]? heapwalk = null;
string? htmlDir = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--n" when i + 1 < args.Length: counts = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(); break;
        case "--gcdump" when i + 1 < args.Length: gcdump = args[++i]; break;
        case "--no-doc": noDoc = true; break;
        case "--heapwalk" when i + 1 < args.Length: heapwalk = args[++i].Split(','); break;
        case "--html" when i + 1 < args.Length: htmlDir = Path.GetFullPath(args[++i]); break;
        default: throw new ArgumentException($"Unknown argument '{args[i]}'. See the usage at the top of Program.cs.");
    }
}

var root = FindRoot();
var temp = Directory.CreateTempSubdirectory("virtportal-circuits-");
var load = string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
var commit = (await Commands.RunAsync("git", ["rev-parse", "--short", "HEAD"], TimeSpan.FromSeconds(30), root)).Output;
var started = DateTime.UtcNow;
Console.Error.WriteLine($"load {load}; building the portal (Release) and the bare app in {temp.FullName}");
var built = await Commands.RunAsync("dotnet", ["build", "src/VirtPortal.Web", "-c", "Release", "--nologo", "-v", "q"], TimeSpan.FromMinutes(10), root);
if (!built.Ok)
    throw new BenchException("portal build failed:\n" + built.Output);
var bareDir = heapwalk is null ? await BareApp.CreateAsync(temp.FullName) : null;
var walks = new List<string>();

var results = new List<Result>();
try
{
    var data = Directory.CreateDirectory(Path.Combine(temp.FullName, "data")).FullName;
    var database = Path.Combine(data, "portal.db");
    var web = Path.Combine(root, "src", "VirtPortal.Web");
    using var portal = await Server.StartAsync(web, Path.Combine(web, "bin", "Release", "net10.0", "VirtPortal.Web.dll"), new Dictionary<string, string>
    {
        ["ConnectionStrings__Portal"] = $"Data Source={database}",
        ["DataDirectory"] = data,
        ["Demo__Enabled"] = "true",
        ["Demo__Password"] = "virtportal-demo",
        ["Monitoring__Interval"] = "00:00:01",
        ["Hosts__FirstRun"] = "simulated",
        ["Logging__LogLevel__Default"] = "Warning",
        // Every circuit signs in from this one address.
        ["Api__RateLimits__SignInPerAddress"] = "1000000",
    }, Path.Combine(temp.FullName, "portal.log"));
    using var bare = bareDir is null ? null : await Server.StartAsync(bareDir, Path.Combine(bareDir, "bin", "Release", "net10.0", BareApp.Name + ".dll"),
        new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" }, Path.Combine(temp.FullName, "bare.log"));

    using var playwright = await Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium", Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });

    // The demo member signs in once; every circuit's page shares the cookie. A VM is requested on the simulated host.
    var member = await browser.NewContextAsync(new() { BaseURL = portal.BaseUrl });
    member.SetDefaultTimeout(60_000);
    var setup = await member.NewPageAsync();
    await setup.GotoAsync("/Account/Login");
    await setup.GetByTestId("login-email").FillAsync("member@demo.virtportal.local");
    await setup.GetByTestId("login-password").FillAsync("virtportal-demo");
    await setup.GetByTestId("login-submit").ClickAsync();
    await setup.GetByTestId("home-title").WaitForAsync();
    await setup.GotoAsync("/requests/new");
    await setup.Locator("[data-testid=app-shell][data-interactive=true]").WaitForAsync();
    await setup.GetByTestId("request-name").FillAsync("circuit-vm");
    await setup.GetByTestId("request-template").ClickAsync();
    await setup.GetByTestId("template-option-Debian 12").ClickAsync();
    await setup.GetByTestId("request-size").ClickAsync();
    await setup.GetByTestId("size-option-small").ClickAsync();
    await setup.GetByTestId("request-submit").ClickAsync();
    await Assertions.Expect(setup.GetByTestId("request-state")).ToHaveAttributeAsync("data-state", "Completed", new() { Timeout = 60_000 });
    await setup.CloseAsync(new() { RunBeforeUnload = true });
    Guid tenantId, vmId;
    await using (var db = new PortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite($"Data Source={database};Mode=ReadOnly").Options))
    {
        tenantId = (await db.Tenants.AsNoTracking().SingleAsync(t => t.Name == "Acme Research")).Id;
        vmId = (await db.Resources.AsNoTracking().SingleAsync(r => r.Name == "circuit-vm")).Id;
    }

    var bareContext = await browser.NewContextAsync(new() { BaseURL = bare?.BaseUrl ?? portal.BaseUrl });
    bareContext.SetDefaultTimeout(60_000);
    const string shell = "[data-testid=app-shell][data-interactive=true]";
    var pages = new List<PageCase>
    {
        new("portal", "tenant dashboard", $"/tenants/{tenantId}", member, portal, async p => { await p.Locator(shell).WaitForAsync(); await p.GetByTestId("tenant-title").WaitForAsync(); }),
        new("portal", "home", "/", member, portal, async p => { await p.Locator(shell).WaitForAsync(); await p.GetByTestId("home-title").WaitForAsync(); }),
        new("portal", "VM page, live uPlot charts", $"/vms/{vmId}", member, portal, async p =>
        {
            await p.Locator(shell).WaitForAsync();
            await Assertions.Expect(p.GetByTestId("live-charts-connection")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 30_000 });
        }),
        new("bare", "counter (dotnet new blazor)", "/counter", bareContext, bare!, async p =>
        {
            // Interactive once a click counts.
            for (var tries = 0; tries < 300; tries++)
            {
                await p.Locator("button.btn-primary").ClickAsync();
                if (await p.Locator("[role=status]").InnerTextAsync() != "Current count: 0")
                    return;
                await Task.Delay(100);
            }

            throw new BenchException("the counter page never became interactive");
        }),
        new("bare", "MudBlazor providers, no chart", "/mudbase", bareContext, bare!, p => p.GetByTestId("bench-ready").WaitForAsync()),
        new("bare", "4 MudChart time series, 900 points, 1 Hz from the server", "/mudcharts", bareContext, bare!, async p =>
            await Assertions.Expect(p.GetByTestId("bench-ticks")).Not.ToHaveTextAsync("0", new() { Timeout = 30_000 })),
    };

    if (heapwalk is not null)
        pages = pages.Where(c => heapwalk.Any(w => c.Label.StartsWith(w == "tenant" ? "tenant" : w == "vm" ? "VM page" : w, StringComparison.Ordinal))).ToList();

    // Warm each page once (JIT, caches, first render), then close.
    foreach (var c in pages)
    {
        var p = await c.Context.NewPageAsync();
        await p.GotoAsync(c.Path);
        await c.Ready(p);
        await p.CloseAsync(new() { RunBeforeUnload = true });
    }

    await Task.Delay(Settle());
    foreach (var c in heapwalk is null ? [] : pages)
    {
        var n = counts[0];
        var before = await HeapWalk.TakeAsync(c.Server.Pid, Path.Combine(temp.FullName, "walk-0.dmp"));
        var open = await OpenAsync(c, n);

        await Task.Delay(Settle());
        if (htmlDir is not null)
        {
            Directory.CreateDirectory(htmlDir);
            await File.WriteAllTextAsync(Path.Combine(htmlDir, c.Label.Split(' ')[0] + ".html"),
                await open[0].Locator("body").EvaluateAsync<string>("e => e.outerHTML"));
        }

        var after = await HeapWalk.TakeAsync(c.Server.Pid, Path.Combine(temp.FullName, "walk-n.dmp"));
        foreach (var p in open)
            await p.CloseAsync(new() { RunBeforeUnload = true });
        await Task.Delay(Settle());
        walks.Add(HeapWalk.Report(c.Label, n, before, after, top: 40));
        Console.Error.WriteLine(walks[^1]);
    }

    foreach (var n in heapwalk is null ? counts : [])
    {
        foreach (var c in pages)
        {
            // A MudChart circuit holds tens of MiB: a sixth as many keep the heap walk short.
            var result = await MeasureAsync(c, c.Path == "/mudcharts" ? Math.Max(1, n / 6) : n, gcdump, temp.FullName);
            results.Add(result);
            Console.Error.WriteLine(Line(result));
        }
    }
}
finally
{
    try
    {
        var logs = Path.Combine(AppContext.BaseDirectory, "logs");
        Directory.CreateDirectory(logs);
        foreach (var log in Directory.EnumerateFiles(temp.FullName, "*.log"))
            File.Copy(log, Path.Combine(logs, Path.GetFileName(log)), overwrite: true);
        foreach (var dump in Directory.EnumerateFiles(temp.FullName, "tenant-*.gcdump"))
            File.Copy(dump, Path.Combine(logs, Path.GetFileName(dump)), overwrite: true);
    }
    catch (IOException)
    {
    }

    temp.Delete(recursive: true);
}

if (heapwalk is not null)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Heap walk {started:yyyy-MM-dd HH:mm} UTC, commit {commit}, load average at the start {load}."));
    Console.WriteLine();
    Console.WriteLine(string.Join("\n\n", walks));
    return 0;
}

var markdown = Markdown(results, started, commit, load, counts);
Console.WriteLine(markdown);
if (!noDoc)
{
    var doc = Path.Combine(root, "docs", "PERFORMANCE.md");
    UpdateDocument(doc, markdown);
    Console.Error.WriteLine($"updated {doc}");
}

return 0;

// How long open or closed circuits get to settle (their first renders, the first metric sends, the
// server's disposal of closed ones) before a probe reads the process.
static TimeSpan Settle() => TimeSpan.FromSeconds(3);

// N circuits of one page: a tab each, every one rendered and interactive before the next opens.
static async Task<List<IPage>> OpenAsync(PageCase c, int n)
{
    var open = new List<IPage>();
    for (var i = 0; i < n; i++)
    {
        var p = await c.Context.NewPageAsync();
        await p.GotoAsync(c.Path);
        await c.Ready(p);
        open.Add(p);
    }

    return open;
}

static async Task<Result> MeasureAsync(PageCase c, int n, string gcdump, string temp)
{
    var tag = string.Create(CultureInfo.InvariantCulture, $"{(c.Label == "tenant dashboard" ? "tenant" : c.App)}-{n}-{Guid.NewGuid():N}");
    var cpu0 = Probe.CpuMs(c.Server.Pid);
    await Task.Delay(10_000);
    var idleCpu = (Probe.CpuMs(c.Server.Pid) - cpu0) / 10.0; // ms of CPU per second, 0 circuits
    var before = await Probe.SampleAsync(gcdump, c.Server.Pid, Path.Combine(temp, tag + "-0.gcdump"));
    var open = await OpenAsync(c, n);

    await Task.Delay(Settle());
    cpu0 = Probe.CpuMs(c.Server.Pid);
    await Task.Delay(10_000);
    var busyCpu = (Probe.CpuMs(c.Server.Pid) - cpu0) / 10.0;
    var after = await Probe.SampleAsync(gcdump, c.Server.Pid, Path.Combine(temp, tag + "-n.gcdump"));
    foreach (var p in open)
        await p.CloseAsync(new() { RunBeforeUnload = true });
    await Task.Delay(Settle());
    return new Result(c.App, c.Label, n, before, after, (busyCpu - idleCpu) / n);
}

static string Kib(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024:F0}");

static string Line(Result r) => string.Create(CultureInfo.InvariantCulture,
    $"{r.App} {r.Label} N={r.N}: heap {Kib(r.Before.HeapBytes)} → {Kib(r.After.HeapBytes)} KiB = {Kib(r.HeapPer)} KiB/circuit; RSS {Kib(r.Before.RssBytes)} → {Kib(r.After.RssBytes)} KiB = {Kib(r.RssPer)} KiB/circuit; CPU {r.CpuMsPerCircuitSecond:F2} ms per circuit-second");

static string Markdown(List<Result> results, DateTime started, string commit, string load, List<int> counts)
{
    var text = new StringBuilder();
    var cpus = File.ReadAllLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
    text.AppendLine(CultureInfo.InvariantCulture, $"Run {started:yyyy-MM-dd HH:mm} UTC, commit {commit}, {Environment.ProcessorCount} × {cpus}, load average at the start {load}; N = {string.Join(" and ", counts)} circuits per page, one page after another.");
    text.AppendLine();
    text.AppendLine("| app | page | N | heap 0 → N (KiB) | **heap per circuit (KiB)** | RSS 0 → N (KiB) | RSS per circuit (KiB) | server CPU per circuit (ms/s) |");
    text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
    foreach (var r in results)
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {r.App} | {r.Label} | {r.N} | {Kib(r.Before.HeapBytes)} → {Kib(r.After.HeapBytes)} | **{Kib(r.HeapPer)}** | {Kib(r.Before.RssBytes)} → {Kib(r.After.RssBytes)} | {Kib(r.RssPer)} | {r.CpuMsPerCircuitSecond:F2} |");
    // Where the memory goes is the heap walk's (--heapwalk): gcdump's type report covers too little of the heap.
    return text.ToString().TrimEnd();
}

static void UpdateDocument(string path, string block)
{
    const string begin = "<!-- circuit bench -->";
    const string end = "<!-- /circuit bench -->";
    var doc = File.ReadAllText(path).ReplaceLineEndings("\n");
    var wrapped = $"{begin}\n{block}\n{end}";
    var start = doc.IndexOf(begin, StringComparison.Ordinal);
    if (start >= 0)
    {
        var stop = doc.IndexOf(end, start, StringComparison.Ordinal);
        doc = doc[..start] + wrapped + doc[(stop + end.Length)..];
    }
    else
    {
        doc = doc.TrimEnd() + "\n\n## Circuit memory (P3): per open dashboard, home and VM page\n\n" + wrapped + "\n";
    }

    File.WriteAllText(path, doc.TrimEnd() + "\n");
}

static string FindRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VirtPortal.sln")))
                return dir.FullName;
    throw new BenchException("VirtPortal.sln not found above the current directory or the bench's own.");
}

internal sealed record PageCase(string App, string Label, string Path, IBrowserContext Context, Server Server, Func<IPage, Task> Ready);

internal sealed record Result(string App, string Label, int N, Probe.Sample Before, Probe.Sample After, double CpuMsPerCircuitSecond)
{
    public double HeapPer => (After.HeapBytes - Before.HeapBytes) / (double)N;

    public double RssPer => (After.RssBytes - Before.RssBytes) / (double)N;
}

internal sealed class BenchException(string message) : Exception(message);
