using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Provisioning;

/// <summary>A resize request from submit to the guest's new size, on the simulated host.</summary>
public sealed class ResizeTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Resource vm = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Running, vm.State);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_running_vm_is_shut_down_resized_and_started_again()
    {
        var requestId = await ApprovedResizeToLargeAsync();

        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));

        var domain = await (await host.DemoHostAsync()).GetDomainAsync(vm.Id, Ct);
        Assert.Equal((DomainState.Running, 8, 16384), (domain!.State, domain.VCpus, domain.MemoryMiB));
        var after = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal((ResourceState.Running, 8, 16384, scenario.Catalog.Large), (after.State, after.VCpus, after.RamMiB, after.SizeId));
        Assert.Equal(RequestState.Completed, (await host.RequestAsync(requestId)).State);
    }

    [Fact]
    public async Task A_resize_changes_vcpus_and_memory_and_leaves_the_disk_as_it_is()
    {
        var preflight = await host.Drafts().PreflightAsync(scenario.Requester, ResizeDraft(scenario.Catalog.Large), Ct);
        await ApprovedResizeToLargeAsync();
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(0, preflight.Quota.Lines.Single(l => l.Unit == "GiB").Requested);
        Assert.Equal(vm.DiskGiB, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).DiskGiB);
    }

    [Fact]
    public async Task A_shut_off_vm_is_resized_and_stays_shut_off()
    {
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, vm.Id, OperationKind.ForceOff, ct: Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        await ApprovedResizeToLargeAsync();

        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));

        var domain = await (await host.DemoHostAsync()).GetDomainAsync(vm.Id, Ct);
        Assert.Equal((DomainState.Shutoff, 8), (domain!.State, domain.VCpus));
        Assert.Equal(ResourceState.Shutoff, Assert.Single(await host.ResourcesAsync(scenario.TenantId)).State);
    }

    [Fact]
    public async Task A_failed_resize_tells_the_requester_why_and_the_record_keeps_the_size_the_guest_has()
    {
        var requestId = await ApprovedResizeToLargeAsync();
        (await host.DemoHostAsync()).Faults.Fail("Resize", () => new HypervisorRefusedException("unsupported configuration: maximum vcpus exceed limit"));

        await Provisioning.RunOnceAsync("worker", Ct);

        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Failed, request.State);
        Assert.Equal($"The host refused to resize the VM; an administrator has been told. Request {requestId}.", request.Reason);
        Assert.Contains("maximum vcpus exceed limit", request.FailureDetail, StringComparison.Ordinal);
        var after = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal((ResourceState.Running, 2, 4096, scenario.Catalog.Small), (after.State, after.VCpus, after.RamMiB, after.SizeId));
        var domain = await (await host.DemoHostAsync()).GetDomainAsync(vm.Id, Ct);
        Assert.Equal((DomainState.Running, 2), (domain!.State, domain.VCpus));
        Assert.Equal(0, (await host.Services.GetRequiredService<Reconciler>().RunAsync(Ct)).NewDrifts);
    }

    [Fact]
    public async Task A_paused_vm_is_not_resized_and_the_requester_is_told_to_resume_it()
    {
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, vm.Id, OperationKind.Suspend, ct: Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        var requestId = await ApprovedResizeToLargeAsync();

        await Provisioning.RunOnceAsync("worker", Ct);

        var request = await host.RequestAsync(requestId);
        Assert.Equal(RequestState.Failed, request.State);
        Assert.Contains("is paused: resume it", request.Reason, StringComparison.Ordinal);
        var domain = await (await host.DemoHostAsync()).GetDomainAsync(vm.Id, Ct);
        Assert.Equal((DomainState.Paused, 2), (domain!.State, domain.VCpus));
        var after = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal((ResourceState.Paused, 2, 4096), (after.State, after.VCpus, after.RamMiB));
    }

    private RequestDraft ResizeDraft(Guid sizeId) => new()
    {
        Kind = RequestKind.ResizeVm, TenantId = scenario.TenantId, ResourceId = vm.Id, SizeId = sizeId, Justification = "more load",
    };

    /// <summary>Large is over the auto-approval limits: submit, then the approver approves.</summary>
    private async Task<Guid> ApprovedResizeToLargeAsync()
    {
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, ResizeDraft(scenario.Catalog.Large), Ct);
        if ((await host.RequestAsync(requestId)).State == RequestState.PendingApproval)
            await host.Decisions().ApproveAsync(scenario.Approver, requestId, Ct);
        Assert.Equal(RequestState.Approved, (await host.RequestAsync(requestId)).State);
        return requestId;
    }
}
