using VirtPortal.Core.Audit;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Tests.Requests;

public sealed class QuotaAndLeaseRequestTests : PortalTestBase
{
    [Fact]
    public async Task Approved_quota_increase_changes_the_quota_and_completes_the_request()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var bigger = TenantQuota.Default with { VCpus = 32, Vms = 20 };
        var id = await Host.Drafts().SubmitAsync(s.Requester, QuotaIncrease(s, bigger), Ct);

        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        Assert.Equal(RequestState.Completed, (await Host.RequestAsync(id)).State);
        Assert.Equal(bigger, (await Host.Tenants.GetAsync(s.Admin, s.TenantId, Ct)).Tenant.Quota);
        var audit = Assert.Single(await Host.AuditAsync(AuditActions.QuotaChanged));
        Assert.Equal((s.Approver.UserId, (Guid?)s.TenantId), (audit.ActorId, audit.TenantId));
    }

    [Fact]
    public async Task Quota_increase_waits_for_an_approver_even_on_an_auto_approving_tenant()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var id = await Host.Drafts().SubmitAsync(s.Requester, QuotaIncrease(s, TenantQuota.Default with { VCpus = 32 }), Ct);

        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
        Assert.Equal(TenantQuota.Default, (await Host.Tenants.GetAsync(s.Admin, s.TenantId, Ct)).Tenant.Quota);
    }

    [Fact]
    public async Task First_lease_extension_approves_itself_and_moves_the_lease_end_by_its_days()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var vm = await RequestTestData.AddVmAsync(Host, s.TenantId, "web", TestCatalog.SmallVm);

        var id = await Host.Drafts().SubmitAsync(s.Requester, ExtendLease(s, vm.Id, 10), Ct);

        Assert.Equal(RequestState.Completed, (await Host.RequestAsync(id)).State);
        var extended = Assert.Single(await Host.ResourcesAsync(s.TenantId));
        Assert.Equal((vm.LeaseEndsAt.AddDays(10), 1), (extended.LeaseEndsAt, extended.LeaseExtensions));
    }

    [Fact]
    public async Task Second_lease_extension_waits_for_approval_and_leaves_the_lease_alone()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var vm = await RequestTestData.AddVmAsync(Host, s.TenantId, "web", TestCatalog.SmallVm);
        await Host.Drafts().SubmitAsync(s.Requester, ExtendLease(s, vm.Id, 10), Ct);

        var id = await Host.Drafts().SubmitAsync(s.Requester, ExtendLease(s, vm.Id, 10), Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal(RequestState.PendingApproval, request.State);
        Assert.Contains("only the first lease extension approves itself", request.Timeline.OrderBy(e => e.Id).Last().Message, StringComparison.Ordinal);
        Assert.Equal(vm.LeaseEndsAt.AddDays(10), Assert.Single(await Host.ResourcesAsync(s.TenantId)).LeaseEndsAt);
    }

    private static RequestDraft QuotaIncrease(RequestScenario s, TenantQuota quota) => new()
    {
        Kind = RequestKind.QuotaIncrease,
        TenantId = s.TenantId,
        RequestedQuota = quota,
        Justification = "more projects",
    };

    private static RequestDraft ExtendLease(RequestScenario s, Guid resourceId, int days) => new()
    {
        Kind = RequestKind.ExtendLease,
        TenantId = s.TenantId,
        ResourceId = resourceId,
        LeaseDays = days,
    };
}
