using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Common;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Resources;

public sealed class ResourceActionsTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Resource vm = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ResourceActions Actions => host.Services.GetRequiredService<ResourceActions>();

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_member_shuts_down_their_tenants_vm_through_a_queued_operation()
    {
        await Actions.RequestAsync(scenario.OtherMember, vm.Id, OperationKind.Shutdown, ct: Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(ResourceState.Shutoff, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
    }

    [Fact]
    public async Task An_admin_acts_on_any_tenants_vm()
    {
        await Actions.RequestAsync(scenario.Admin, vm.Id, OperationKind.Suspend, ct: Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(ResourceState.Paused, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
    }

    [Fact]
    public async Task Helpdesk_and_outsiders_are_refused_and_the_refusal_is_audited()
    {
        var helpdesk = await host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);
        var outsider = await host.CreateUserAsync("outsider@test.local");

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Actions.RequestAsync(helpdesk, vm.Id, OperationKind.ForceOff, ct: Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Actions.RequestAsync(outsider, vm.Id, OperationKind.ForceOff, ct: Ct));

        await using var db = host.NewDb();
        Assert.Equal(1, await db.Operations.CountAsync(Ct));
        Assert.Equal(2, await db.AuditEntries.CountAsync(e => e.Action == "access.denied" && e.Target == $"resource {vm.Id}", Ct));
    }

    [Fact]
    public async Task An_action_the_state_does_not_offer_is_refused_with_the_reason()
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Resume, ct: Ct));

        Assert.Equal("web-1 is running: it cannot resume now.", error.Message);
    }

    [Fact]
    public async Task Delete_needs_the_resources_name_typed_and_then_removes_the_vm()
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Delete, "web", Ct));
        Assert.Equal("Type web-1 to confirm.", error.For("ConfirmName"));

        await Actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Delete, "web-1", Ct);
        Assert.Equal(ResourceState.Deleting, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(ResourceState.Deleted, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
    }

    [Fact]
    public async Task The_same_action_twice_while_the_first_is_queued_is_refused()
    {
        await Actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Reboot, ct: Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Actions.RequestAsync(scenario.Requester, vm.Id, OperationKind.Reboot, ct: Ct));

        Assert.Equal("Reboot of web-1 is already under way.", error.Message);
    }

    [Theory]
    [InlineData(ResourceState.Running, "Shutdown,ForceOff,Reboot,Suspend,Delete")]
    [InlineData(ResourceState.Shutoff, "Start,Delete")]
    [InlineData(ResourceState.Paused, "ForceOff,Resume,Delete")]
    [InlineData(ResourceState.Crashed, "Start,ForceOff,Delete")]
    [InlineData(ResourceState.Deleting, "")]
    public void Each_vm_state_offers_its_own_actions(ResourceState state, string expected)
    {
        var offered = ResourceLifecycle.UserActions.Where(a => ResourceLifecycle.Can(a, ResourceKind.Vm, state));

        Assert.Equal(expected, string.Join(",", offered));
    }
}
