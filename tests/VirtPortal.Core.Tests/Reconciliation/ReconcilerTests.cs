using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Reconciliation;

/// <summary>Drift between the simulated host and the portal, made the way someone with virsh would.</summary>
public sealed class ReconcilerTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private Resource vm = default!;
    private SimulatedHypervisor hypervisor = default!;
    private RequestScenario scenario = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Reconciler Reconciler => host.Services.GetRequiredService<Reconciler>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await host.Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker", Ct);
        vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        hypervisor = await host.DemoHostAsync();
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_domain_the_portal_is_still_creating_is_never_called_unknown()
    {
        // A slow create: the domain is defined (shut off, as libvirt shows it paused mid-start) while its start hangs.
        hypervisor.Faults.Hang("Start");
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-2"), Ct);
        var creating = host.Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker", Ct);
        for (var waited = 0; waited < 100 && (await hypervisor.ListDomainsAsync(Ct)).Count < 2; waited++)
            await Task.Delay(TimeSpan.FromMilliseconds(20), Ct);
        Assert.Equal(2, (await hypervisor.ListDomainsAsync(Ct)).Count);

        var pass = await Reconciler.RunAsync(Ct);

        hypervisor.Faults.Release("Start");
        await creating;
        Assert.Equal(0, pass.NewDrifts);
        await using var db = host.NewDb();
        Assert.False(await db.Drifts.AnyAsync(Ct));
        Assert.Equal(0, (await Reconciler.RunAsync(Ct)).NewDrifts);
    }

    [Fact]
    public async Task With_nothing_changed_outside_there_is_no_drift()
    {
        var pass = await Reconciler.RunAsync(Ct);

        Assert.Equal(0, pass.NewDrifts);
    }

    [Fact]
    public async Task A_host_registered_while_it_did_not_answer_gets_its_capacity_once_it_answers()
    {
        var admin = await host.AdminAsync();
        var added = await host.Services.GetRequiredService<HostService>()
            .AddAsync(admin, new HostInput("rack-2", HostDriver.Simulated, "simulated://rack-2", "", 4, 1), Ct);
        // As the host is stored when its first contact failed: no facts, unreachable.
        await using (var arrange = host.NewDb())
        {
            await arrange.Hosts.Where(h => h.Id == added.Id).ExecuteUpdateAsync(
                s => s.SetProperty(h => h.State, HostState.Unreachable).SetProperty(h => h.Cpus, 0).SetProperty(h => h.MemoryMiB, 0), Ct);
        }

        await Reconciler.RunAsync(Ct);

        await using var db = host.NewDb();
        var rack = await db.Hosts.AsNoTracking().SingleAsync(h => h.Id == added.Id, Ct);
        Assert.Equal((HostState.Online, 32, 131072L), (rack.State, rack.Cpus, rack.MemoryMiB));
    }

    [Fact]
    public async Task A_vm_stopped_outside_the_portal_is_recorded_once_and_cleared_when_it_runs_again()
    {
        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Shutoff);

        Assert.Equal(1, (await Reconciler.RunAsync(Ct)).NewDrifts);
        Assert.Equal(0, (await Reconciler.RunAsync(Ct)).NewDrifts);
        var drift = await OpenDriftAsync();
        Assert.Equal((DriftKind.StateChanged, "Running", "Shutoff"), (drift.Kind, drift.PortalView, drift.HypervisorView));

        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Running);
        Assert.Equal(1, (await Reconciler.RunAsync(Ct)).Cleared);
        await using var db = host.NewDb();
        Assert.False(await db.Drifts.AnyAsync(d => d.ResolvedAt == null, Ct));
    }

    [Fact]
    public async Task A_vm_deleted_outside_is_reported_vanished_and_the_portal_keeps_its_record()
    {
        await hypervisor.DeleteAsync(vm.Id, Ct);

        await Reconciler.RunAsync(Ct);

        Assert.Equal(DriftKind.Vanished, (await OpenDriftAsync()).Kind);
        await using var db = host.NewDb();
        Assert.Equal(ResourceState.Running, (await db.Resources.SingleAsync(Ct)).State);
    }

    [Fact]
    public async Task An_unknown_domain_is_reported_and_left_alone()
    {
        var stranger = new DomainSpec(Guid.NewGuid(), "hand-made", 1, 512, 5, "debian-12-base");
        await hypervisor.CreateAsync(stranger, Ct);

        await Reconciler.RunAsync(Ct);

        var drift = await OpenDriftAsync();
        Assert.Equal((DriftKind.Unknown, "hand-made", (Guid?)null), (drift.Kind, drift.DomainName, drift.ResourceId));
        Assert.Equal(2, (await hypervisor.ListDomainsAsync(Ct)).Count);
    }

    [Fact]
    public async Task A_vm_resized_outside_is_reported_with_both_sizes()
    {
        await hypervisor.ForceOffAsync(vm.Id, Ct);
        await hypervisor.ResizeAsync(vm.Id, 4, 8192, Ct);
        await hypervisor.StartAsync(vm.Id, Ct);

        await Reconciler.RunAsync(Ct);

        var drift = await OpenDriftAsync();
        Assert.Equal((DriftKind.Resized, "2 vCPU, 4096 MiB", "4 vCPU, 8192 MiB"), (drift.Kind, drift.PortalView, drift.HypervisorView));
    }

    [Fact]
    public async Task An_unreachable_host_is_marked_and_produces_no_drift()
    {
        hypervisor.Faults.Fail("List", () => new HypervisorUnreachableException("Cannot recv data: Connection reset by peer"));

        var pass = await Reconciler.RunAsync(Ct);

        Assert.Equal((1, 0), (pass.Unreachable, pass.NewDrifts));
        await using var db = host.NewDb();
        var demo = await db.Hosts.SingleAsync(Ct);
        Assert.Equal((HostState.Unreachable, "Cannot recv data: Connection reset by peer"), (demo.State, demo.LastError));
    }

    [Fact]
    public async Task A_host_that_answers_with_an_error_stays_online_for_placement()
    {
        hypervisor.Faults.Fail("List", () => new HypervisorNotFoundException("Domain not found: no domain with matching uuid"), times: 1);

        var pass = await Reconciler.RunAsync(Ct);

        Assert.Equal((0, 0), (pass.Unreachable, pass.NewDrifts));
        await using var db = host.NewDb();
        var demo = await db.Hosts.SingleAsync(Ct);
        Assert.Equal((HostState.Online, "Domain not found: no domain with matching uuid"), (demo.State, demo.LastError));
        Assert.Empty(await host.AuditAsync("host.unreachable"));
    }

    private async Task<Drift> OpenDriftAsync()
    {
        await using var db = host.NewDb();
        return await db.Drifts.AsNoTracking().SingleAsync(d => d.ResolvedAt == null, Ct);
    }
}
