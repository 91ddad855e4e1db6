using System.Net.WebSockets;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// What of the browser's RFB stream reaches the VM: everything under full control; under view-only
/// (helpdesk) everything but keys, pointer, clipboard, desktop size and power requests, whatever the
/// websocket frames cut. A recording RFB server is the VM.
/// </summary>
public sealed class ConsoleInputTests(ConsolePortal portal) : IClassFixture<ConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[][] Watching =
    [
        RfbClient.SetPixelFormat(),
        RfbClient.SetEncodings(0, 1, -223, -258),
        RfbClient.FramebufferUpdateRequest(incremental: true, 0, 0, 64, 48),
    ];

    private static readonly byte[][] Input =
    [
        RfbClient.KeyEvent(true, RfbClient.KeysymA),
        RfbClient.KeyEvent(false, RfbClient.KeysymA),
        RfbClient.PointerEvent(1, 10, 20),
        [5, 0x81, 0, 10, 0, 20, 1],                                // noVNC's extended pointer event: marker bit, a higher button byte
        RfbClient.ClientCutText("rm -rf /"),
        RfbClient.QemuExtendedKeyEvent(true, RfbClient.KeysymReturn, 0x1c),
        [250, 0, 1, 4],                                            // xvp: reboot
        [251, 0, 0, 64, 0, 48, 1, 0, .. new byte[16]],             // SetDesktopSize, one screen
    ];

    /// <summary>Sent last: when the server has it, it has everything the proxy let through before it.</summary>
    private static readonly byte[] Sentinel = RfbClient.FramebufferUpdateRequest(incremental: false, 1, 2, 3, 4);

    [Theory]
    [InlineData(1024)]
    [InlineData(3)]
    public async Task Helpdesks_view_only_session_drops_the_clients_input_and_passes_the_rest(int frameSize)
    {
        var helpdesk = await portal.CreateUserAsync(GlobalRoles.Helpdesk);
        var (tenant, vm) = await VmAsync();
        var cookies = await portal.SignInAsync(helpdesk);
        var offer = await portal.OfferAsync(cookies, vm);
        Assert.True(offer.ViewOnly);
        await using var client = new RfbClient(await portal.ConnectAsync(cookies, vm, offer.Ticket));
        await client.HandshakeAsync(shared: false, Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await SendInFramesAsync(client, Interleaved(), frameSize);

        byte[] expected = [.. Watching.SelectMany(m => m), .. Sentinel];
        Assert.Equal(expected, await server.ReceivedAsync(expected.Length, Ct));
        Assert.Equal(1, server.Shared);
        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
        var ended = await portal.SingleAuditAsync(helpdesk, AuditActions.ConsoleEnded);
        Assert.Equal(tenant, ended.TenantId);
        Assert.Contains("view-only", ended.Details, StringComparison.Ordinal);
        Assert.Contains($"{Input.Length} input messages dropped", ended.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_members_session_passes_every_message_and_shares_the_desktop()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        await using var client = new RfbClient(await portal.ConnectAsync(cookies, vm));
        await client.HandshakeAsync(shared: false, Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await SendInFramesAsync(client, Interleaved(), 5);

        byte[] expected = [.. Interleaved().SelectMany(m => m)];
        Assert.Equal(expected, await server.ReceivedAsync(expected.Length, Ct));
        Assert.Equal(1, server.Shared);
    }

    [Fact]
    public async Task A_message_the_proxy_does_not_know_ends_the_session_and_is_audited()
    {
        var helpdesk = await portal.CreateUserAsync(GlobalRoles.Helpdesk);
        var (_, vm) = await VmAsync();
        await using var client = new RfbClient(await portal.ConnectAsync(await portal.SignInAsync(helpdesk), vm));
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await client.SendAsync([99, 0, 0, 0], Ct);

        var closed = await ConsolePortal.ReadUntilClosedAsync(client.Socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed);
        Assert.True(await server.ClosedAsync(Ct));
        var ended = await portal.SingleAuditAsync(helpdesk, AuditActions.ConsoleEnded);
        Assert.Contains("the browser sent an RFB message the proxy does not accept", ended.Details, StringComparison.Ordinal);
    }

    /// <summary>What noVNC sends while a user types and moves the mouse: input between the viewer's own messages.</summary>
    private static IEnumerable<byte[]> Interleaved()
    {
        yield return Watching[0];
        yield return Input[0];
        yield return Watching[1];
        foreach (var input in Input[1..])
            yield return input;
        yield return Watching[2];
        yield return Sentinel;
    }

    private static async Task SendInFramesAsync(RfbClient client, IEnumerable<byte[]> messages, int frameSize)
    {
        var stream = messages.SelectMany(m => m).ToArray();
        for (var at = 0; at < stream.Length; at += frameSize)
            await client.SendAsync(stream[at..Math.Min(stream.Length, at + frameSize)], Ct);
    }

    private async Task<(Guid Tenant, Guid Vm)> VmAsync()
    {
        var owner = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((owner, TenantRole.Owner));
        return (tenant, (await portal.CreateVncVmsAsync(tenant, vnc.Port))[0]);
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();
}
