using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>Scripts on the live hub with a personal API token instead of a cookie: the token's scope, and its end.</summary>
public sealed class LiveHubTokenTests(LivePortal portal) : IClassFixture<LivePortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task A_token_connection_hears_its_users_tenants_and_nothing_else(HttpTransportType transport)
    {
        var member = await portal.CreateUserAsync();
        var stranger = await portal.CreateUserAsync();
        var mine = await portal.CreateTenantAsync((member, TenantRole.Member));
        var theirs = await portal.CreateTenantAsync((stranger, TenantRole.Member));
        var myVm = await portal.CreateVmAsync(mine);
        var theirVm = await portal.CreateVmAsync(theirs);
        await using var listener = await LiveListener.StartAsync(portal.TokenConnection(await portal.CreateTokenAsync(member), transport));

        await portal.RebootAsync(stranger, theirVm);
        await portal.RebootAsync(member, myVm);

        await listener.SettleAfterAsync(LiveEvents.ResourceChanged, myVm);
        Assert.DoesNotContain(listener.Received, e => e.EntityId == theirVm);
    }

    [Fact]
    public async Task A_token_limited_to_one_tenant_hears_that_tenant_alone_and_may_not_watch_the_others_metrics()
    {
        var member = await portal.CreateUserAsync();
        var first = await portal.CreateTenantAsync((member, TenantRole.Member));
        var second = await portal.CreateTenantAsync((member, TenantRole.Member));
        var firstVm = await portal.CreateVmAsync(first);
        var secondVm = await portal.CreateVmAsync(second);
        await using var listener = await LiveListener.StartAsync(portal.TokenConnection(await portal.CreateTokenAsync(member, tenantId: first)));

        var refused = await Assert.ThrowsAsync<HubException>(() => listener.Connection.InvokeAsync("SubscribeMetrics", secondVm, Ct));
        await portal.RebootAsync(member, secondVm);
        await portal.RebootAsync(member, firstVm);

        await listener.SettleAfterAsync(LiveEvents.ResourceChanged, firstVm);
        Assert.DoesNotContain(listener.Received, e => e.EntityId == secondVm);
        Assert.Contains("do not have permission", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_revoked_token_or_a_locked_users_token_loses_its_open_connection_and_cannot_open_another(bool lockTheUser)
    {
        var member = await portal.CreateUserAsync();
        await portal.CreateTenantAsync((member, TenantRole.Member));
        var token = await portal.CreateTokenAsync(member);
        await using var listener = await LiveListener.StartAsync(portal.TokenConnection(token));
        var tokens = portal.Services.GetRequiredService<ApiTokenService>();

        if (lockTheUser)
            await portal.Services.GetRequiredService<UserAdministration>().SetLockedAsync(await portal.AdminActorAsync(), member.UserId, locked: true, Ct);
        else
            await tokens.RevokeAsync(member.Actor, (await tokens.ListAsync(member.Actor, Ct)).Single().Id, Ct);

        await listener.Closed.WaitAsync(LiveListener.Patience, Ct);
        await using var again = portal.TokenConnection(token);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => again.StartAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task An_unknown_token_is_refused_with_401()
    {
        await using var connection = portal.TokenConnection(ApiTokenService.Prefix + new string('x', 43));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync(Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
