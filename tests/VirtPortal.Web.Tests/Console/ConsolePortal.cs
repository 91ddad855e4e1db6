using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Console;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// The portal on a real Kestrel socket (see <see cref="LivePortal"/>) with the console's sessions checked
/// every second. VMs for the proxy's own rules live on a libvirt test-driver host (<c>test:///FILE</c>)
/// whose domains name, as their VNC port, a real RFB server of the test's own (<see cref="RfbServer"/>):
/// the portal's real libvirt adapter reports it, and the proxy connects to it over TCP.
/// </summary>
public class ConsolePortal : LivePortal
{
    public const string CookieName = "VirtPortal.Auth";

    public ConsolePortal()
        : this(new Dictionary<string, string?>())
    {
    }

    protected ConsolePortal(IReadOnlyDictionary<string, string?> overrides)
        : base(new Dictionary<string, string?>(overrides) { ["Console:RevalidationInterval"] = "00:00:01" })
    {
    }

    public Uri ConsoleUrl(Guid resourceId) => new UriBuilder(BaseAddress) { Scheme = "ws", Path = $"/console/{resourceId}" }.Uri;

    public ConsoleTickets Tickets => Services.GetRequiredService<ConsoleTickets>();

    public ConsoleSessions Sessions => Services.GetRequiredService<ConsoleSessions>();

    /// <summary>
    /// A libvirt host on the test driver with one running domain per port, each a VM of the tenant whose
    /// VNC server is that port on 127.0.0.1; returns the VMs' ids (also their domains' UUIDs).
    /// </summary>
    public async Task<Guid[]> CreateVncVmsAsync(Guid tenantId, params int[] vncPorts)
    {
        ArgumentNullException.ThrowIfNull(vncPorts);
        var ids = vncPorts.Select(_ => Guid.NewGuid()).ToArray();
        var uri = await VncTestNode.WriteAsync(Path.Combine(DataDirectory, $"vnc-node-{Guid.NewGuid():N}.xml"),
            ids.Select((id, i) => (id, vncPorts[i])), TestContext.Current.CancellationToken);

        var now = DateTimeOffset.UtcNow;
        var host = new Host
        {
            Id = Guid.CreateVersion7(now), Name = $"vnc-{Guid.NewGuid():N}"[..12], Driver = HostDriver.Libvirt, Uri = uri,
            DomainType = "test", State = HostState.Online, Cpus = 4, MemoryMiB = 8192, StorageGiB = 100, CreatedAt = now, LastSeenAt = now,
        };
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        db.Hosts.Add(host);
        foreach (var id in ids)
        {
            db.Resources.Add(new Resource
            {
                Id = id, TenantId = tenantId, Name = $"vm-{id:N}"[..12], Kind = ResourceKind.Vm, HostId = host.Id, VCpus = 1, RamMiB = 128,
                State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(30), Version = 1,
            });
        }

        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return ids;
    }

    /// <summary>A new user, the only member of a new tenant that has one VM whose VNC server is <paramref name="vncPort"/>.</summary>
    public async Task<(LiveUser Member, Guid Tenant, Guid Vm)> MemberWithVncVmAsync(int vncPort)
    {
        var member = await CreateUserAsync();
        var tenant = await CreateTenantAsync((member, TenantRole.Member));
        return (member, tenant, (await CreateVncVmsAsync(tenant, vncPort))[0]);
    }

    /// <summary>
    /// The principal the sign-in cookie carries, read with the portal's own cookie format: what a
    /// circuit on the VM page holds, and so what the page hands to <see cref="ConsoleTickets.OfferAsync"/>.
    /// </summary>
    public ClaimsPrincipal PrincipalOf(CookieContainer cookies)
    {
        ArgumentNullException.ThrowIfNull(cookies);
        var all = cookies.GetCookies(BaseAddress);
        var value = all[CookieName]?.Value ?? throw new InvalidOperationException("Not signed in: no sign-in cookie.");
        if (value.StartsWith("chunks-", StringComparison.Ordinal))
        {
            var count = int.Parse(value["chunks-".Length..], CultureInfo.InvariantCulture);
            value = string.Concat(Enumerable.Range(1, count).Select(i => all[$"{CookieName}C{i}"]!.Value));
        }

        var format = Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentityConstants.ApplicationScheme).TicketDataFormat;
        return format.Unprotect(value)?.Principal ?? throw new InvalidOperationException("The sign-in cookie does not decrypt.");
    }

    /// <summary>What the VM page gets for this signed-in browser.</summary>
    public Task<ConsoleOffer> OfferAsync(CookieContainer cookies, Guid resourceId) =>
        Tickets.OfferAsync(PrincipalOf(cookies), resourceId, TestContext.Current.CancellationToken);

    /// <summary>A ticket for this browser, which must be offered one.</summary>
    public async Task<string> TicketAsync(CookieContainer cookies, Guid resourceId) =>
        (await OfferAsync(cookies, resourceId)).Ticket ?? throw new InvalidOperationException("No ticket was offered.");

    /// <summary>A websocket as noVNC opens it: the cookie, the page's origin, and subprotocols binary and vp-ticket.{ticket}.</summary>
    public static ClientWebSocket Socket(CookieContainer? cookies, string? ticket, string? origin)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (cookies is not null)
            socket.Options.Cookies = cookies;
        if (origin is not null)
            socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.AddSubProtocol(ConsoleProxy.Subprotocol);
        if (ticket is not null)
            socket.Options.AddSubProtocol(ConsoleTickets.SubprotocolPrefix + ticket);
        return socket;
    }

    /// <summary>Opens the console of <paramref name="resourceId"/> from the portal's own page.</summary>
    public async Task<ClientWebSocket> ConnectAsync(CookieContainer cookies, Guid resourceId, string? ticket = null)
    {
        var socket = Socket(cookies, ticket ?? await TicketAsync(cookies, resourceId), OwnOrigin);
        await socket.ConnectAsync(ConsoleUrl(resourceId), TestContext.Current.CancellationToken);
        return socket;
    }

    /// <summary>Tries the handshake, which must be refused before any upgrade; the status it got.</summary>
    public async Task<HttpStatusCode> RefusedAsync(ClientWebSocket socket, Guid resourceId)
    {
        ArgumentNullException.ThrowIfNull(socket);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ConsoleUrl(resourceId), TestContext.Current.CancellationToken));
        Assert.Null(socket.SubProtocol);
        return socket.HttpStatusCode;
    }

    /// <summary>The console audit entries of one user, oldest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditOfAsync(LiveUser user, string action)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.AuditEntries.AsNoTracking().Where(e => e.ActorId == user.UserId && e.Action == action)
            .OrderBy(e => e.Id).ToListAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The user's one entry of <paramref name="action"/>, waiting up to 10 s for it (a session's end is audited as it closes).</summary>
    public async Task<AuditEntry> SingleAuditAsync(LiveUser user, string action)
    {
        for (var i = 0; i < 100 && (await AuditOfAsync(user, action)).Count == 0; i++)
            await Task.Delay(100, TestContext.Current.CancellationToken);
        return Assert.Single(await AuditOfAsync(user, action));
    }

    /// <summary>Reads the console until the proxy closes it (within a minute) and answers the close, as a browser does; the close status it sent.</summary>
    public static async Task<WebSocketCloseStatus?> ReadUntilClosedAsync(WebSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        var buffer = new byte[4096];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, limit.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", limit.Token);
                return received.CloseStatus;
            }
        }
    }
}
