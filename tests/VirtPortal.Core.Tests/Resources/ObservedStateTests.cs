using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Common;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Resources;

/// <summary>
/// A resource shows what its host last reported, changed the way someone with virsh would change it:
/// the row says when that differs from what the portal wants, actions follow the host's state, and a
/// host that stops answering shows its VMs as Unknown until it answers again.
/// </summary>
public sealed class ObservedStateTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private SimulatedHypervisor hypervisor = default!;
    private Guid vmId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Reconciler Reconciler => host.Services.GetRequiredService<Reconciler>();

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        vmId = Assert.Single(await host.ResourcesAsync(scenario.TenantId)).Id;
        hypervisor = await host.DemoHostAsync();
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    private async Task<ResourceSummary> RowAsync() =>
        Assert.Single(await host.Services.GetRequiredService<ResourceQueries>().ListAsync(scenario.Requester, scenario.TenantId, Ct));

    [Fact]
    public async Task A_vm_paused_outside_the_portal_shows_paused_with_the_time_and_can_be_resumed_from_the_portal()
    {
        var heard = new ConcurrentQueue<ResourceChanged>();
        using var subscription = ListenForChanges(heard);
        await hypervisor.SuspendAsync(vmId, Ct);
        var pausedAt = host.Time.GetUtcNow();

        await Reconciler.RunAsync(Ct);

        var row = await RowAsync();
        Assert.Equal((ResourceState.Paused, ResourceState.Running), (row.State, row.WantedState));
        Assert.Equal($"Paused outside the portal · {pausedAt.UtcDateTime:HH:mm:ss}", row.Difference);
        Assert.Equal(pausedAt, row.ConfirmedAt);
        for (var waited = 0; waited < 100 && heard.IsEmpty; waited++)
            await Task.Delay(20, Ct);
        Assert.Equal(row.Version, Assert.Single(heard).Version);

        // Actions follow the host: paused, it resumes; it does not pause again.
        var actions = host.Services.GetRequiredService<ResourceActions>();
        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => actions.RequestAsync(scenario.Requester, vmId, OperationKind.Suspend, ct: Ct));
        Assert.Contains("is paused", refused.Message, StringComparison.Ordinal);
        await actions.RequestAsync(scenario.Requester, vmId, OperationKind.Resume, ct: Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));

        row = await RowAsync();
        Assert.Equal((ResourceState.Running, ResourceState.Running, (string?)null), (row.State, row.WantedState, row.Difference));
        Assert.Equal(DomainState.Running, (await hypervisor.GetDomainAsync(vmId, Ct))!.State);
    }

    [Fact]
    public async Task A_hosts_lifecycle_event_is_recorded_and_announced_at_once_and_the_pass_after_it_announces_nothing_more()
    {
        var heard = new ConcurrentQueue<ResourceChanged>();
        using var subscription = ListenForChanges(heard);
        await hypervisor.SuspendAsync(vmId, Ct);
        var hostId = await HostIdAsync();

        Assert.True(await Reconciler.ReportEventAsync(hostId, new DomainEvent(vmId, "web-1", DomainState.Paused, "suspended"), Ct));

        Assert.Equal(ResourceState.Paused, (await RowAsync()).State);
        for (var waited = 0; waited < 100 && heard.IsEmpty; waited++)
            await Task.Delay(20, Ct);
        Assert.Single(heard);
        // The pass still compares everything and records the drift, but the state is already known.
        var pass = await Reconciler.RunAsync(Ct);
        Assert.Equal(1, pass.NewDrifts);
        await Task.Delay(100, Ct);
        Assert.Single(heard);
    }

    [Fact]
    public async Task An_event_for_a_vm_with_an_operation_in_flight_or_on_another_host_or_unknown_changes_nothing()
    {
        var hostId = await HostIdAsync();
        var before = await RowAsync();

        Assert.False(await Reconciler.ReportEventAsync(Guid.NewGuid(), new DomainEvent(vmId, "web-1", DomainState.Paused, ""), Ct));
        Assert.False(await Reconciler.ReportEventAsync(hostId, new DomainEvent(Guid.NewGuid(), "stranger", DomainState.Paused, ""), Ct));
        // The portal's own pause is under way: its operation reports the outcome, not the event.
        Assert.Equal(before.Version, (await RowAsync()).Version);
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, vmId, OperationKind.Suspend, ct: Ct);
        var queued = await RowAsync();
        Assert.False(await Reconciler.ReportEventAsync(hostId, new DomainEvent(vmId, "web-1", DomainState.Paused, ""), Ct));

        var after = await RowAsync();
        Assert.Equal((ResourceState.Running, queued.Version), (after.State, after.Version));
    }

    /// <summary>The VM's ResourceChanged messages, as a page's subscription hears them.</summary>
    private IDisposable ListenForChanges(ConcurrentQueue<ResourceChanged> heard) =>
        host.Services.GetRequiredService<LiveUpdates>().Subscribe(m =>
        {
            if (m is ResourceChanged changed && changed.EntityId == vmId)
                heard.Enqueue(changed);
            return Task.CompletedTask;
        });

    private async Task<Guid> HostIdAsync()
    {
        await using var db = host.NewDb();
        return (await db.Resources.SingleAsync(r => r.Id == vmId, Ct)).HostId!.Value;
    }

    [Fact]
    public async Task A_confirmation_of_the_same_state_moves_the_time_but_announces_nothing()
    {
        await Reconciler.RunAsync(Ct);
        var first = await RowAsync();
        host.Time.Advance(TimeSpan.FromSeconds(15));

        await Reconciler.RunAsync(Ct);

        var second = await RowAsync();
        Assert.Equal((ResourceState.Running, first.Version), (second.State, second.Version));
        Assert.Equal(host.Time.GetUtcNow(), second.ConfirmedAt);
        Assert.Null(second.Difference);
    }

    [Fact]
    public async Task A_host_that_stops_answering_shows_its_vms_unknown_with_when_it_was_last_seen_and_they_come_back_on_their_own()
    {
        await Reconciler.RunAsync(Ct);
        var lastSeen = host.Time.GetUtcNow();
        host.Time.Advance(TimeSpan.FromMinutes(2));
        hypervisor.Faults.Fail("List", () => new HypervisorUnreachableException("Cannot recv data: Connection reset by peer"), times: 1);

        await Reconciler.RunAsync(Ct);

        var row = await RowAsync();
        Assert.Equal(ResourceState.Unknown, row.State);
        Assert.Equal($"Host not answering · last seen {lastSeen.UtcDateTime:HH:mm:ss}", row.Difference);
        // Actions are offered for what is shown; force off is the one that applies to an unknown state.
        Assert.True(ResourceLifecycle.Can(OperationKind.ForceOff, ResourceKind.Vm, row.State));
        Assert.False(ResourceLifecycle.Can(OperationKind.Shutdown, ResourceKind.Vm, row.State));

        host.Time.Advance(TimeSpan.FromSeconds(15));
        await Reconciler.RunAsync(Ct);

        row = await RowAsync();
        Assert.Equal((ResourceState.Running, (string?)null), (row.State, row.Difference));
    }

    [Fact]
    public async Task A_shutdown_from_the_portal_is_what_the_portal_wants_even_while_the_guest_powers_down()
    {
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, vmId, OperationKind.Shutdown, ct: Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        await Reconciler.RunAsync(Ct);

        var row = await RowAsync();
        Assert.Equal((ResourceState.Shutoff, ResourceState.Shutoff, (string?)null), (row.State, row.WantedState, row.Difference));
        await using var db = host.NewDb();
        Assert.False(await db.Drifts.AnyAsync(d => d.ResolvedAt == null, Ct));
    }

    [Fact]
    public async Task An_expired_vm_that_its_host_shows_stopped_stays_expired()
    {
        await using (var db = host.NewDb())
        {
            var vm = await db.Resources.SingleAsync(r => r.Id == vmId, Ct);
            ResourceLifecycle.Expire(vm, host.Time.GetUtcNow());
            await db.SaveChangesAsync(Ct);
        }

        await hypervisor.ForceOffAsync(vmId, Ct);
        await Reconciler.RunAsync(Ct);

        var row = await RowAsync();
        Assert.Equal((ResourceState.Expired, (string?)null), (row.State, row.Difference));
    }

    [Fact]
    public async Task Helpdesk_sees_every_tenants_resources_on_the_wall_as_their_hosts_report_them_and_members_are_refused_it()
    {
        var helpdesk = await host.CreateUserAsync("helpdesk@test.local", VirtPortal.Core.Users.GlobalRoles.Helpdesk);
        var stranger = await host.CreateUserAsync("stranger@test.local");
        var elsewhere = await host.CreateTenantAsync("Elsewhere", (stranger, VirtPortal.Core.Tenancy.TenantRole.Member));
        await hypervisor.SuspendAsync(vmId, Ct);
        await Reconciler.RunAsync(Ct);
        var queries = host.Services.GetRequiredService<ResourceQueries>();

        var wall = await queries.ListAllAsync(helpdesk, Ct);

        var row = Assert.Single(wall);
        Assert.Equal((vmId, ResourceState.Paused, "demo"), (row.Resource.Id, row.Resource.State, row.Resource.HostName));
        Assert.StartsWith("Paused outside the portal", row.Resource.Difference, StringComparison.Ordinal);
        Assert.Equal(host.Time.GetUtcNow(), row.Resource.ConfirmedAt);
        Assert.Equal(row, await queries.GetAsync(helpdesk, vmId, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => queries.ListAllAsync(scenario.Requester, Ct));
        // A member of another tenant cannot read this one's row by id; the refusal is audited with its tenant.
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => queries.GetAsync(stranger, vmId, Ct));
        await using var db = host.NewDb();
        Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == "access.denied" && e.ActorId == stranger.UserId && e.TenantId == scenario.TenantId, Ct));
        Assert.NotEqual(Guid.Empty, elsewhere);
    }
}
