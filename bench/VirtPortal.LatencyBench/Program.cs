using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using VirtPortal.BenchKit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.LatencyBench;

// P1, event latency. Starts the portal's Release build (Development, so pages get their static assets; a
// temp data dir; demo mode) on the local qemu:///system, has the demo member request a "Tiny test guest"
// through the request form, keeps the tenant page open in headless Chromium (a MutationObserver on the VM's
// state chip) and a .NET SignalR client on /hubs/live, and pauses and resumes the guest with virsh, behind the
// portal's back, while `virsh event --timestamp` stamps libvirt's own events. Reports p50/p95/p99/max of virsh
// call → hub and → DOM, and of libvirt event → hub and → DOM.
//
// Usage (root, libvirtd running, the vp-tiny image built by scripts/prepare-host.sh; build in Release first):
//   dotnet bench/VirtPortal.LatencyBench/bin/Release/net10.0/VirtPortal.LatencyBench.dll
//     [--changes 220] [--gap 1.5] [--warmup 4] [--settle 10] [--uri qemu:///system] [--domain-type qemu]
//     [--portal-setting Key=Value]... [--no-doc]
//   --changes N   virsh suspend/resume calls measured, alternating (default 220)
//   --gap S       seconds from one call's return to the next call (default 1.5)
//   --warmup N    changes before the measured ones, not counted (default 4)
//   --settle S    seconds after the guest runs before the first change (its boot, default 10)
//   --no-doc      print the block only; do not rewrite it in docs/PERFORMANCE.md
// Needs Debian's Chromium at /usr/bin/chromium.
var options = Options.Parse(args);
var root = Repository.FindRoot();
var load = Machine.LoadAverage();
var commit = await Repository.CommitAsync(root);
var machine = Machine.Describe();
var started = DateTimeOffset.UtcNow;
var temp = Directory.CreateTempSubdirectory("virtportal-latency-");
var data = Directory.CreateDirectory(Path.Combine(temp.FullName, "data")).FullName;
var database = Path.Combine(data, "portal.db");
const string Password = "virtportal-demo";
var member = DemoAccounts.All[0].Email;
var vmName = "lat-" + Guid.NewGuid().ToString("N")[..6];
Console.Error.WriteLine($"load {load}; {machine}; commit {commit}; data in {temp.FullName}");

var settings = new Dictionary<string, string>
{
    ["ConnectionStrings:Portal"] = $"Data Source={database}",
    ["DataDirectory"] = data,
    ["Demo:Enabled"] = "true",
    ["Demo:Password"] = Password,
    ["Hosts:FirstRun"] = "libvirt",
    ["Databases:FirstRun"] = "none",
    ["Hosts:LocalLibvirtUri"] = options.LibvirtUri,
    ["Hosts:LocalDomainType"] = options.DomainType,
    // The portal stamps its own log lines (UTC, ms), so the reconciler's pass can be placed between event and hub.
    ["Logging:Console:FormatterName"] = "simple",
    ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fff ",
    ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
};
foreach (var extra in options.PortalSettings)
    settings[extra[..extra.IndexOf('=', StringComparison.Ordinal)]] = extra[(extra.IndexOf('=', StringComparison.Ordinal) + 1)..];

PortalProcess? portal = null;
HubListener? hub = null;
PortalBrowser? browser = null;
VirshEvents? events = null;
Guid? vmId = null;
Guid tenantId = default;
var changes = new List<Change>();
IReadOnlyList<DomChange> dom = [];
var ct = CancellationToken.None;
var passes = new ReconcilerPasses();
var hubClosed = 0;
try
{
    portal = PortalProcess.Start(new PortalLaunch
    {
        Repository = root, Settings = settings, LogPath = Path.Combine(temp.FullName, "portal.log"),
        OnLine = (_, line) => passes.OnLine(line),
    });
    var ready = await portal.WaitReadyAsync(TimeSpan.FromMinutes(3), ct);
    Console.Error.WriteLine(Inv($"portal at {portal.BaseUrl} answered after {ready.TotalSeconds:0.0} s"));

    var cookies = await PortalSignIn.SignInAsync(portal.BaseUrl, member, Password, ct: ct);
    hub = await HubListener.ConnectAsync(portal.BaseUrl, portal.Origin, cookies, ct);
    browser = await PortalBrowser.LaunchAsync(portal.BaseUrl, cookies);
    var requestClock = Stopwatch.StartNew();
    await browser.RequestVmAsync(vmName, DemoCatalog.TestGuestTemplate, "small");
    await using (var db = new PortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite($"Data Source={database};Mode=ReadOnly").Options))
    {
        tenantId = (await db.Tenants.AsNoTracking().SingleAsync(t => t.Name == DemoAccounts.AcmeTenant, ct)).Id;
        vmId = (await db.Resources.AsNoTracking().SingleAsync(r => r.Name == vmName, ct)).Id;
    }

    // The domain's UUID is the resource's id.
    var domain = vmId.Value.ToString();
    Console.Error.WriteLine(Inv($"{vmName} ({domain}) provisioned in {requestClock.Elapsed.TotalSeconds:0.0} s"));
    await browser.ObserveAsync(tenantId, vmName);
    events = VirshEvents.Start(options.LibvirtUri, domain);
    await Task.Delay(options.Settle, ct);

    var total = options.Warmup + options.Changes;
    for (var i = 0; i < total; i++)
    {
        var pause = i % 2 == 0;
        var command = pause ? "suspend" : "resume";
        var called = Clock.NowMs();
        var outcome = await Commands.VirshAsync(options.LibvirtUri, command, domain);
        var returned = Clock.NowMs();
        changes.Add(new Change(i, command, pause ? "Paused" : "Running", pause ? "Suspended" : "Resumed", called, returned, outcome.ExitCode, outcome.Error));
        if (!outcome.Ok)
            Console.Error.WriteLine($"virsh {command} failed: {outcome.Error}");
        if ((i + 1) % 20 == 0)
            Console.Error.WriteLine(Inv($"{i + 1} of {total} changes"));
        await Task.Delay(options.Gap, ct);
    }

    // Late arrivals of the last change.
    await Task.Delay(TimeSpan.FromSeconds(3), ct);
    dom = await browser.ChangesAsync();
    hubClosed = hub.Closed;
}
finally
{
    events?.Dispose();
    if (vmId is { } id)
        await DeleteAsync(browser, tenantId, vmName, id, options.LibvirtUri);
    if (browser is not null)
        await browser.DisposeAsync();
    if (hub is not null)
        await hub.DisposeAsync();
    if (portal is not null)
        await portal.StopAndKeepLogAsync();

    temp.Delete(recursive: true);
}

var matched = Matching.Match(changes, events!.Events, hub!.For(vmId!.Value), dom, passes.Times, tailMs: 3000 + options.Gap.TotalMilliseconds);
var measured = matched.Skip(options.Warmup).ToList();
var markdown = Report.Markdown(new Report.Run(started, commit, machine, load, options, options.DomainType, measured,
    portal!.Warnings, portal.Errors, hubClosed, measured.Count(x => x.Change.ExitCode != 0), events.Unparsed));
Console.WriteLine(markdown);
var raw = Path.Combine(AppContext.BaseDirectory, "logs", "changes.tsv");
await File.WriteAllLinesAsync(raw, matched.Select(x => Inv(
    $"{x.Change.Index}\t{x.Change.Command}\t{x.Change.CalledMs:F3}\t{x.Change.ReturnedMs:F3}\t{x.Event?.AtMs:F0}\t{x.Pass:F0}\t{x.Hub?.AtMs:F3}\t{x.Dom?.AtMs:F3}\t{x.Dom?.FrameMs:F3}\t{x.HubMessages}")).Prepend("index\tcommand\tcalled\treturned\tevent\tpass_logged\thub\tdom\tframe\thub_messages"), ct);
Console.Error.WriteLine($"raw times in {raw}");
if (!options.NoDoc)
{
    var doc = Path.Combine(root, "docs", "PERFORMANCE.md");
    DocumentBlock.Rewrite(doc, "latency bench", markdown, "## Event latency (P1): virsh pause and resume → hub client and open page",
        beforeHeading: "## libvirt adapter on real guests");
    Console.Error.WriteLine($"updated {doc}");
}

return 0;

// Through the portal first (it owns the VM and its disk); whatever is left on the host goes by virsh.
static async Task DeleteAsync(PortalBrowser? browser, Guid tenantId, string name, Guid id, string uri)
{
    if (browser is not null)
    {
        try
        {
            await browser.DeleteVmAsync(tenantId, name);
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            // Cleanup goes on by virsh whatever the page did.
            Console.Error.WriteLine($"deleting {name} through the portal failed ({e.GetType().Name}: {e.Message.Split('\n')[0]}); removing it with virsh");
        }
    }

    for (var attempt = 0; attempt < 30; attempt++)
    {
        if (!(await Commands.VirshAsync(uri, "domstate", id.ToString())).Ok)
            return;
        // The portal's delete may still be running: give it a moment before taking over.
        if (attempt < 10)
        {
            await Task.Delay(1000);
            continue;
        }

        await Commands.VirshAsync(uri, "destroy", id.ToString());
        var undefined = await Commands.VirshAsync(uri, "undefine", id.ToString(), "--remove-all-storage");
        Console.Error.WriteLine($"virsh undefine {id}: {(undefined.Ok ? "done" : undefined.Error)}");
    }
}

static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
