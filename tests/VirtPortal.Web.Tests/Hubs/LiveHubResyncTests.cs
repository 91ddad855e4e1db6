using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>A client that was away asks what changed since the versions it holds.</summary>
public sealed class LiveHubResyncTests(LivePortal portal) : IClassFixture<LivePortal>
{
    [Fact]
    public async Task A_client_that_reconnects_receives_what_it_missed_and_nothing_it_may_not_see()
    {
        var member = await portal.CreateUserAsync();
        var outsider = await portal.CreateUserAsync();
        var tenantA = await portal.CreateTenantAsync((member, TenantRole.Member));
        var tenantB = await portal.CreateTenantAsync((outsider, TenantRole.Member));
        var changedVm = await portal.CreateVmAsync(tenantA);
        var unchangedVm = await portal.CreateVmAsync(tenantA);
        var foreignVm = await portal.CreateVmAsync(tenantB);
        var request = await portal.SubmitQuotaRequestAsync(member, tenantA);
        var foreignRequest = await portal.SubmitQuotaRequestAsync(outsider, tenantB);
        var heldRequestVersion = await portal.VersionOfRequestAsync(request);
        await using (var before = await portal.ListenAsync(member))
            await before.Connection.StopAsync(TestContext.Current.CancellationToken);

        // While the client is away: its VM is rebooted and its request withdrawn.
        await portal.RebootAsync(member, changedVm);
        await portal.Services.GetRequiredService<RequestDecisions>().CancelAsync(member.Actor, request, TestContext.Current.CancellationToken);
        await using var listener = await portal.ListenAsync(member);
        var sent = await listener.Connection.InvokeAsync<int>("Resync", new
        {
            resources = new Dictionary<string, long>
            {
                [changedVm.ToString()] = 1,
                [unchangedVm.ToString()] = await portal.VersionOfResourceAsync(unchangedVm),
                [foreignVm.ToString()] = 0,
            },
            requests = new Dictionary<string, long>
            {
                [request.ToString()] = heldRequestVersion,
                [foreignRequest.ToString()] = 0,
                [Guid.NewGuid().ToString()] = 0,
            },
        }, TestContext.Current.CancellationToken);

        Assert.Equal(2, sent);
        var resource = await listener.WaitForAsync(LiveEvents.ResourceChanged, changedVm);
        var withdrawn = await listener.WaitForAsync(LiveEvents.RequestChanged, request);
        Assert.True(resource.Version > 1, $"the rebooted VM's version, got {resource.Version}");
        Assert.Equal(tenantA, resource.TenantId);
        Assert.Equal(await portal.VersionOfRequestAsync(request), withdrawn.Version);
        Assert.True(withdrawn.Version > heldRequestVersion);
        Assert.DoesNotContain(listener.Received, e => e.EntityId == unchangedVm || e.EntityId == foreignVm || e.EntityId == foreignRequest || e.TenantId == tenantB);
    }

    [Fact]
    public async Task A_resync_naming_more_than_the_limit_is_refused_with_a_plain_message()
    {
        var member = await portal.CreateUserAsync();
        await using var listener = await portal.ListenAsync(member);
        var tooMany = Enumerable.Range(0, Core.Live.LiveResync.MaxEntities + 1).ToDictionary(_ => Guid.NewGuid().ToString(), _ => 0L);

        var refused = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() =>
            listener.Connection.InvokeAsync<int>("Resync", new { resources = tooMany }, TestContext.Current.CancellationToken));

        Assert.EndsWith($"A resync names at most {Core.Live.LiveResync.MaxEntities} entities.", refused.Message, StringComparison.Ordinal);
    }
}
