using System.Net.WebSockets;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Console;

namespace VirtPortal.Web.Tests.Console;

/// <summary>What a good ticket opens: a relay of the RFB stream both ways, full control or view-only.</summary>
public sealed class ConsoleRelayTests(ConsolePortal portal) : IClassFixture<ConsolePortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_members_good_ticket_relays_bytes_both_ways_and_audits_start_and_end_with_the_bytes()
    {
        await using var vnc = new RfbServer();
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var offer = await portal.OfferAsync(cookies, vm);
        Assert.False(offer.ViewOnly);

        await using var client = new RfbClient(await portal.ConnectAsync(cookies, vm, offer.Ticket));
        Assert.Equal(ConsoleProxy.Subprotocol, client.Socket.SubProtocol);
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);
        var sent = RfbClient.FramebufferUpdateRequest(incremental: false, 0, 0, 64, 48);
        await client.SendAsync(sent, Ct);
        var bell = new byte[] { 2 };
        await server.SendAsync(bell, Ct);

        Assert.Equal(sent, await server.ReceivedAsync(sent.Length, Ct));
        Assert.Equal(bell, await client.ReadExactAsync(1, Ct));
        Assert.Equal("RFB 003.008\n", server.Version);
        Assert.Equal(64, client.Width);
        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
        Assert.True(await server.ClosedAsync(Ct));

        var started = Assert.Single(await portal.AuditOfAsync(member, AuditActions.ConsoleStarted));
        Assert.Equal(tenant, started.TenantId);
        Assert.Contains("full control", started.Details, StringComparison.Ordinal);
        var ended = await portal.SingleAuditAsync(member, AuditActions.ConsoleEnded);
        Assert.Contains("closed by the browser", ended.Details, StringComparison.Ordinal);
        Assert.Contains("bytes to the browser", ended.Details, StringComparison.Ordinal);
        Assert.DoesNotContain(offer.Ticket!, ended.Details + started.Details, StringComparison.Ordinal);
    }
}
