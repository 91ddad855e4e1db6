using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Xml.Linq;
using VirtPortal.BenchKit;
using VirtPortal.ConsoleBench;
using VirtPortal.Core.Demo;
using VirtPortal.Web.Tests.Console;

// Console round trip: keystroke → echo on screen. Makes one "Tiny test guest" through the portal's own
// services on the local libvirt, starts the portal's Release build on it, signs in as the demo member and
// opens two RFB connections to the guest at once: one straight to QEMU's VNC websocket, one through the
// portal's console proxy (a ticket from POST /console/{id}/ticket, then the websocket /console/{id}). On
// the guest's shell (tty1) it types a key on one path and times until that path's framebuffer update shows
// the change (incremental update requests, Raw encoding), then Backspace; the paths alternate, and each is
// brought up to date with a full update before its keystroke, outside the timing. Reports p50/p95 of
// each path and the proxy's overhead.
//
// Usage (root, libvirtd running, the vp-tiny image built by scripts/prepare-host.sh; build in Release first),
// serialized with other benches and libvirt tests:
//   flock /tmp/vp-bench.lock flock /tmp/vp-libvirt.lock dotnet bench/VirtPortal.ConsoleBench/bin/Release/net10.0/VirtPortal.ConsoleBench.dll
//     [--samples 200] [--warmup 20] [--gap 50] [--uri qemu:///system] [--domain-type qemu] [--no-doc]
//   --samples N   `a` + Backspace pairs measured per path (default 200: 400 keystrokes each)
//   --warmup N    pairs per path before those, not counted (default 20)
//   --gap MS      pause before each keystroke, once both update requests are sent (default 50)
//   --no-doc      print the block only; do not rewrite it in docs/PERFORMANCE.md
var options = Options.Parse(args);
var root = Repository.FindRoot();
var load = Machine.LoadAverage();
var commit = await Repository.CommitAsync(root);
var machine = Machine.Describe();
var started = DateTimeOffset.UtcNow;
var ct = CancellationToken.None;
var temp = Directory.CreateTempSubdirectory("virtportal-console-");
var data = Directory.CreateDirectory(Path.Combine(temp.FullName, "data")).FullName;
Console.Error.WriteLine($"load {load}; {machine}; commit {commit}; data in {temp.FullName}");

PortalProcess? portal = null;
Guid? vmId = null;
var directRoundTrips = new List<double>();
var proxiedRoundTrips = new List<double>();
var downstream = new List<double>();
var (width, height) = (0, 0);
try
{
    var clock = Stopwatch.StartNew();
    vmId = await Seed.RunAsync(data, options, ct);
    var domain = (await Commands.VirshAsync(options.LibvirtUri, "domname", vmId.Value.ToString())).Output;
    Console.Error.WriteLine(Inv($"guest {domain} running after {clock.Elapsed.TotalSeconds:0.0} s"));
    await WaitForSerialAsync(domain, "vp-tiny ready", TimeSpan.FromMinutes(2));

    portal = PortalProcess.Start(new PortalLaunch
    {
        Repository = root, LogPath = Path.Combine(temp.FullName, "portal.log"),
        Settings = Seed.Settings(data, options).ToDictionary(s => s.Key, s => s.Value!),
    });
    await portal.WaitReadyAsync(TimeSpan.FromMinutes(3), ct);
    var cookies = await PortalSignIn.SignInAsync(portal.BaseUrl, DemoAccounts.All[0].Email, Seed.DemoPassword, ct: ct);

    var webSocketPort = await WebSocketPortAsync(options.LibvirtUri, vmId.Value);
    await using var straight = await OpenAsync(await DirectAsync(webSocketPort));
    await using var relayed = await OpenAsync(await ProxiedAsync(portal, cookies, vmId.Value));
    (width, height) = (straight.Width, straight.Height);
    Console.Error.WriteLine(Inv($"both paths open ({width}×{height}); preparing the shell"));

    // A clear screen without the blinking cursor: then only the typed key changes pixels.
    await straight.TypeTextAsync("clear; printf '\\033[?25l'\n", ct);
    await Task.Delay(TimeSpan.FromSeconds(2), ct);

    var total = (options.Warmup + options.Samples) * 2;
    for (var i = 0; i < total; i++)
    {
        var throughProxy = i % 2 == 1;
        var typing = throughProxy ? relayed : straight;
        var measured = i >= options.Warmup * 2;
        foreach (var key in new[] { RfbClient.KeysymA, RfbClient.KeysymBackspace })
        {
            // Both up to date, each with an update request waiting at QEMU, as noVNC always has one.
            await straight.RefreshAsync(ct);
            await relayed.RefreshAsync(ct);
            await straight.RequestUpdateAsync(ct);
            await relayed.RequestUpdateAsync(ct);
            await Task.Delay(options.Gap, ct);
            var sent = Stopwatch.GetTimestamp();
            await typing.TypeAsync(key, ct);
            var seenDirect = SeenAsync(straight, sent);
            var seenProxied = SeenAsync(relayed, sent);
            var (direct, proxied) = (await seenDirect, await seenProxied);
            if (!measured)
                continue;
            (throughProxy ? proxiedRoundTrips : directRoundTrips).Add(throughProxy ? proxied : direct);
            downstream.Add(proxied - direct);
        }

        if ((i + 1) % 100 == 0)
            Console.Error.WriteLine(Inv($"{i + 1} of {total} iterations"));
    }

    await relayed.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", ct);
    await straight.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", ct);
}
finally
{
    if (portal is not null)
        await portal.StopAndKeepLogAsync();

    if (vmId is { } id)
    {
        await Commands.VirshAsync(options.LibvirtUri, "destroy", id.ToString());
        var undefined = await Commands.VirshAsync(options.LibvirtUri, "undefine", id.ToString());
        Console.Error.WriteLine($"virsh undefine {id}: {(undefined.Ok ? "done" : undefined.Error)}");
    }

    temp.Delete(recursive: true);
}

var markdown = Report.Markdown(new Report.Run(started, commit, machine, load, options, directRoundTrips, proxiedRoundTrips, downstream,
    width, height, portal!.Warnings, portal.Errors));
Console.WriteLine(markdown);
if (!options.NoDoc)
{
    var doc = Path.Combine(root, "docs", "PERFORMANCE.md");
    DocumentBlock.Rewrite(doc, "console bench", markdown, "## Console round trip: keystroke → echo on screen, through the proxy and direct");
    Console.Error.WriteLine($"updated {doc}");
}

return 0;

// Milliseconds from the keystroke until this connection's screen showed a change.
static async Task<double> SeenAsync(RfbClient client, long sent)
{
    await client.ReadChangeAsync(CancellationToken.None);
    return Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
}

static async Task<RfbClient> OpenAsync(ClientWebSocket socket)
{
    var client = new RfbClient(socket);
    await client.HandshakeAsync(CancellationToken.None);
    await client.UseRawTrueColourAsync(CancellationToken.None);
    await client.RefreshAsync(CancellationToken.None);
    return client;
}

// What the portal's proxy itself does upstream: QEMU's websocket on path "/", subprotocol binary.
static async Task<ClientWebSocket> DirectAsync(int port)
{
    var socket = new ClientWebSocket();
    socket.Options.AddSubProtocol("binary");
    await socket.ConnectAsync(new Uri(Inv($"ws://127.0.0.1:{port}/")), CancellationToken.None);
    return socket;
}

// What the VM page does: a ticket from the portal, then the websocket with the ticket as a subprotocol.
static async Task<ClientWebSocket> ProxiedAsync(PortalProcess portal, CookieContainer cookies, Guid vm)
{
    using var handler = new SocketsHttpHandler { CookieContainer = cookies };
    using var http = new HttpClient(handler) { BaseAddress = portal.BaseUrl };
    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Inv($"/console/{vm}/ticket"), UriKind.Relative));
    request.Headers.Add("Origin", portal.Origin);
    using var response = await http.SendAsync(request);
    response.EnsureSuccessStatusCode();
    var offer = await response.Content.ReadFromJsonAsync<Offer>() ?? throw new InvalidOperationException("no offer");
    if (offer.Ticket is null)
        throw new InvalidOperationException($"no console: {offer.Unavailable}");
    var socket = new ClientWebSocket();
    socket.Options.Cookies = cookies;
    socket.Options.SetRequestHeader("Origin", portal.Origin);
    socket.Options.AddSubProtocol("binary");
    socket.Options.AddSubProtocol("vp-ticket." + offer.Ticket);
    await socket.ConnectAsync(new Uri(Inv($"ws://{portal.BaseUrl.Authority}/console/{vm}")), CancellationToken.None);
    return socket;
}

static async Task<int> WebSocketPortAsync(string uri, Guid vm)
{
    var xml = await Commands.VirshAsync(uri, "dumpxml", vm.ToString());
    var graphics = XDocument.Parse(xml.Output).Root!.Element("devices")!.Elements("graphics").First(g => (string?)g.Attribute("type") == "vnc");
    return int.Parse((string)graphics.Attribute("websocket")!, CultureInfo.InvariantCulture);
}

static async Task WaitForSerialAsync(string domain, string text, TimeSpan timeout)
{
    var path = $"/var/log/libvirt/qemu/{domain}-console.log";
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < timeout)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if ((await new StreamReader(stream).ReadToEndAsync()).Contains(text, StringComparison.Ordinal))
                return;
        }
        catch (FileNotFoundException)
        {
            // Not started yet.
        }

        await Task.Delay(200);
    }

    throw new TimeoutException($"the guest's serial console did not show '{text}' within {timeout.TotalSeconds:0} s ({path})");
}

static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

internal sealed record Offer(string? Ticket, DateTimeOffset? ExpiresAt, bool ViewOnly, string? Unavailable);
