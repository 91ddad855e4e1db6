using System.Net;
using System.Net.WebSockets;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Security;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Console;

/// <summary>The console's rules in time (ticket lifetime, idle sessions, the cookie's refresh) on a fake clock.</summary>
public sealed class ConsoleClockTests(ClockedConsolePortal portal) : IClassFixture<ClockedConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_ticket_is_good_for_59_seconds()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(cookies, vm);

        portal.Clock.Advance(TimeSpan.FromSeconds(59));

        using var socket = await portal.ConnectAsync(cookies, vm, ticket);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task An_expired_ticket_is_refused_and_audited()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var offer = await portal.OfferAsync(cookies, vm);
        Assert.Equal(portal.Clock.GetUtcNow().AddSeconds(60), offer.ExpiresAt);

        portal.Clock.Advance(TimeSpan.FromSeconds(60));

        using var socket = ConsolePortal.Socket(cookies, offer.Ticket, portal.OwnOrigin);
        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(socket, vm));
        var refused = Assert.Single(await portal.AuditOfAsync(member, AuditActions.ConsoleRefused));
        Assert.Equal("ticket expired", refused.Details);
        Assert.Equal(tenant, refused.TenantId);
    }

    [Fact]
    public async Task A_session_without_input_for_the_idle_timeout_is_closed_and_input_keeps_it_open()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        await using var client = new RfbClient(await portal.ConnectAsync(await portal.SignInAsync(member), vm));
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);
        var received = 0;

        portal.Clock.Advance(TimeSpan.FromMinutes(10));
        received = await RoundTripAsync(client, server, received, RfbClient.KeyEvent(true, RfbClient.KeysymA));
        portal.Clock.Advance(TimeSpan.FromMinutes(10));
        received = await RoundTripAsync(client, server, received);
        Assert.Equal(WebSocketState.Open, client.Socket.State);
        portal.Clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal((WebSocketCloseStatus)4000, await ConsolePortal.ReadUntilClosedAsync(client.Socket));
        Assert.Equal("Closed after 15 minutes without input.", client.Socket.CloseStatusDescription);
        var ended = await portal.SingleAuditAsync(member, AuditActions.ConsoleEnded);
        Assert.EndsWith("; idle", ended.Details, StringComparison.Ordinal);
        Assert.Contains("1500.0 s", ended.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sign_in_keeps_its_session_id_when_the_security_stamp_check_renews_the_cookie_so_an_earlier_ticket_still_opens()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var before = portal.PrincipalOf(cookies);
        var cookieBefore = cookies.GetCookies(portal.BaseAddress)[ConsolePortal.CookieName]!.Value;
        var ticket = await portal.TicketAsync(cookies, vm);

        portal.Clock.Advance(TimeSpan.FromSeconds(31));
        using (var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        using (var browser = new HttpClient(handler) { BaseAddress = portal.BaseAddress })
        using (var page = await browser.GetAsync(new Uri("/", UriKind.Relative), Ct))
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        Assert.NotEqual(cookieBefore, cookies.GetCookies(portal.BaseAddress)[ConsolePortal.CookieName]!.Value);
        Assert.Equal(PortalClaimsPrincipalFactory.SessionOf(before), PortalClaimsPrincipalFactory.SessionOf(portal.PrincipalOf(cookies)));
        using var socket = await portal.ConnectAsync(cookies, vm, ticket);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    /// <summary>Sends the messages and a sentinel request; returns the bytes the server has by then.</summary>
    private static async Task<int> RoundTripAsync(RfbClient client, RfbServerClient server, int before, params byte[][] messages)
    {
        byte[] sent = [.. messages.SelectMany(m => m), .. RfbClient.FramebufferUpdateRequest(incremental: true, 0, 0, 1, 1)];
        await client.SendAsync(sent, Ct);
        return (await server.ReceivedAsync(before + sent.Length, Ct)).Length;
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();
}
