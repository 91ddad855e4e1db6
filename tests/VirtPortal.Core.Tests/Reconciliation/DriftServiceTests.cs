using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Common;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Reconciliation;

public sealed class DriftServiceTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Resource vm = default!;
    private SimulatedHypervisor hypervisor = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DriftService Drifts => host.Services.GetRequiredService<DriftService>();

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        hypervisor = await host.DemoHostAsync();
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Accepting_a_stop_made_outside_records_the_vm_as_shut_off()
    {
        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Shutoff);
        var drift = await DetectAsync();

        await Drifts.AcceptAsync(scenario.Admin, drift.Id, Ct);

        Assert.Equal(ResourceState.Shutoff, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
        Assert.Empty(await Drifts.ListOpenAsync(scenario.Admin, Ct));
    }

    [Fact]
    public async Task Restoring_a_stop_made_outside_starts_the_vm_again_through_an_operation()
    {
        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Shutoff);
        var drift = await DetectAsync();

        await Drifts.RestoreAsync(scenario.Admin, drift.Id, Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(DomainState.Running, (await hypervisor.GetDomainAsync(vm.Id, Ct))!.State);
    }

    [Fact]
    public async Task Restoring_a_vanished_vm_creates_it_again_under_the_same_uuid()
    {
        await hypervisor.DeleteAsync(vm.Id, Ct);
        var drift = await DetectAsync();

        await Drifts.RestoreAsync(scenario.Admin, drift.Id, Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(vm.Id, Assert.Single(await hypervisor.ListDomainsAsync(Ct)).Id);
    }

    [Fact]
    public async Task Adopting_an_unknown_domain_makes_it_a_resource_of_the_chosen_tenant()
    {
        var stranger = new DomainSpec(Guid.NewGuid(), "legacy-db", 2, 2048, 20, "debian-12-base");
        await hypervisor.CreateAsync(stranger, Ct);
        var drift = await DetectAsync();

        await Drifts.AdoptAsync(scenario.Admin, drift.Id, scenario.TenantId, Ct);

        var adopted = (await host.ResourcesAsync(scenario.TenantId)).Single(r => r.Id == stranger.Id);
        Assert.Equal(("legacy-db", ResourceState.Running, 2), (adopted.Name, adopted.State, adopted.VCpus));
    }

    [Fact]
    public async Task Only_admins_settle_drift()
    {
        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Shutoff);
        var drift = await DetectAsync();

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Drifts.AcceptAsync(scenario.Approver, drift.Id, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Drifts.ListOpenAsync(scenario.Owner, Ct));
    }

    private async Task<DriftView> DetectAsync()
    {
        await host.Services.GetRequiredService<Reconciler>().RunAsync(Ct);
        return Assert.Single(await Drifts.ListOpenAsync(scenario.Admin, Ct));
    }
}
