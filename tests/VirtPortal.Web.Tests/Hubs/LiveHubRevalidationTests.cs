using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>Open connections follow the account and its memberships, within Live:RevalidationInterval.</summary>
public sealed class LiveHubRevalidationTests(LivePortal portal) : IClassFixture<LivePortal>
{
    [Fact]
    public async Task A_locked_out_user_loses_the_stream_within_the_revalidation_interval()
    {
        var member = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vm = await portal.CreateVmAsync(tenant);
        await using var listener = await portal.ListenAsync(member);
        await portal.RebootAsync(member, vm);
        await listener.WaitForAsync(LiveEvents.ResourceChanged, vm);

        var clock = Stopwatch.StartNew();
        await portal.Services.GetRequiredService<UserAdministration>()
            .SetLockedAsync(await portal.AdminActorAsync(), member.UserId, locked: true, TestContext.Current.CancellationToken);

        // One interval until the next pass at most, and the pass itself.
        await listener.Closed.WaitAsync(LivePortal.RevalidationInterval * 3, TestContext.Current.CancellationToken);
        Assert.True(clock.Elapsed < LivePortal.RevalidationInterval * 3, $"closed after {clock.Elapsed}");
        Assert.Equal(HubConnectionState.Disconnected, listener.Connection.State);
    }

    [Fact]
    public async Task A_member_removed_from_a_tenant_stops_hearing_its_changes_and_metrics_but_keeps_the_rest()
    {
        var member = await portal.CreateUserAsync();
        var colleague = await portal.CreateUserAsync();
        var leaving = await portal.CreateTenantAsync((member, TenantRole.Member), (colleague, TenantRole.Owner));
        var staying = await portal.CreateTenantAsync((member, TenantRole.Member));
        var leavingVm = await portal.CreateVmAsync(leaving);
        var stayingVm = await portal.CreateVmAsync(staying);
        await using var listener = await portal.ListenAsync(member);
        await listener.Connection.InvokeAsync("SubscribeMetrics", leavingVm, TestContext.Current.CancellationToken);
        await listener.Connection.InvokeAsync("SubscribeMetrics", stayingVm, TestContext.Current.CancellationToken);
        var before = await portal.SubmitQuotaRequestAsync(colleague, leaving);
        portal.Live.Publish(LivePortal.Sample(leaving, leavingVm));
        await listener.WaitForAsync(LiveEvents.RequestChanged, before);
        await listener.WaitForAsync(LiveEvents.Metrics, leavingVm);

        await portal.Services.GetRequiredService<TenantService>()
            .RemoveMemberAsync(await portal.AdminActorAsync(), leaving, member.UserId, TestContext.Current.CancellationToken);
        // Nothing a client sees marks the pass; two intervals hold at least one whole pass.
        await Task.Delay(LivePortal.RevalidationInterval * 2.5, TestContext.Current.CancellationToken);
        var metricsBefore = listener.Received.Count(e => e.Name == LiveEvents.Metrics && e.EntityId == leavingVm);
        var after = await portal.SubmitQuotaRequestAsync(colleague, leaving);
        portal.Live.Publish(LivePortal.Sample(leaving, leavingVm));
        portal.Live.Publish(LivePortal.Sample(staying, stayingVm));
        var sentinel = await portal.SubmitQuotaRequestAsync(member, staying);

        await listener.WaitForAsync(LiveEvents.Metrics, stayingVm);
        await listener.SettleAfterAsync(LiveEvents.RequestChanged, sentinel);
        Assert.Equal(HubConnectionState.Connected, listener.Connection.State);
        Assert.DoesNotContain(listener.Received, e => e.EntityId == after);
        Assert.Equal(metricsBefore, listener.Received.Count(e => e.Name == LiveEvents.Metrics && e.EntityId == leavingVm));
    }
}
