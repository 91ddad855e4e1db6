using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Console;

/// <summary>Open sessions follow the account and its access, checked every Console:RevalidationInterval (1 s here).</summary>
public sealed class ConsoleRevalidationTests(ConsolePortal portal) : IClassFixture<ConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_locked_out_users_session_is_closed_and_audited()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        await using var client = new RfbClient(await portal.ConnectAsync(await portal.SignInAsync(member), vm));
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await portal.Services.GetRequiredService<UserAdministration>().SetLockedAsync(await portal.AdminActorAsync(), member.UserId, locked: true, Ct);

        Assert.Equal((WebSocketCloseStatus)4001, await ConsolePortal.ReadUntilClosedAsync(client.Socket));
        Assert.Equal("Your sign-in is no longer valid.", client.Socket.CloseStatusDescription);
        Assert.True(await server.ClosedAsync(Ct));
        var ended = await portal.SingleAuditAsync(member, AuditActions.ConsoleEnded);
        Assert.Contains("sign-in no longer valid", ended.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_removed_from_the_tenant_loses_the_session()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        await using var client = new RfbClient(await portal.ConnectAsync(await portal.SignInAsync(member), vm));
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await portal.Services.GetRequiredService<TenantService>().RemoveMemberAsync(await portal.AdminActorAsync(), tenant, member.UserId, Ct);

        Assert.Equal((WebSocketCloseStatus)4003, await ConsolePortal.ReadUntilClosedAsync(client.Socket));
        Assert.True(await server.ClosedAsync(Ct));
        var ended = await portal.SingleAuditAsync(member, AuditActions.ConsoleEnded);
        Assert.Contains("access to the console lost", ended.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_who_may_now_only_watch_goes_on_view_only()
    {
        var watcher = await portal.CreateUserAsync(GlobalRoles.Helpdesk);
        var tenant = await portal.CreateTenantAsync((watcher, TenantRole.Member));
        var vm = (await portal.CreateVncVmsAsync(tenant, vnc.Port))[0];
        var cookies = await portal.SignInAsync(watcher);
        Assert.False((await portal.OfferAsync(cookies, vm)).ViewOnly);
        await using var client = new RfbClient(await portal.ConnectAsync(cookies, vm));
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await portal.Services.GetRequiredService<TenantService>().RemoveMemberAsync(await portal.AdminActorAsync(), tenant, watcher.UserId, Ct);
        var session = Assert.Single(portal.Sessions.Of(watcher.UserId));
        for (var i = 0; i < 300 && !session.Filter.ViewOnly; i++)
            await Task.Delay(100, Ct);

        var sentinel = RfbClient.FramebufferUpdateRequest(incremental: false, 0, 0, 64, 48);
        await client.SendAsync([.. RfbClient.KeyEvent(true, RfbClient.KeysymA), .. sentinel], Ct);
        Assert.Equal(sentinel, await server.ReceivedAsync(sentinel.Length, Ct));
        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();
}
