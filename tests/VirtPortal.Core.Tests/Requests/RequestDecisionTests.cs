using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Requests;

public sealed class RequestDecisionTests : PortalTestBase
{
    [Fact]
    public async Task Approver_approving_creates_the_resource_and_its_create_operation()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        var request = await Host.RequestAsync(id);
        var resource = Assert.Single(await Host.ResourcesAsync(s.TenantId));
        await using var db = Host.NewDb();
        var operation = Assert.Single(await db.Operations.ToListAsync(Ct));
        Assert.Equal((RequestState.Approved, (Guid?)resource.Id), (request.State, request.ResourceId));
        Assert.Equal((ResourceState.Provisioning, 8), (resource.State, resource.VCpus));
        Assert.Equal((OperationKind.Create, resource.Id, s.Approver.UserId), (operation.Kind, operation.ResourceId, operation.RequestedBy));
    }

    [Fact]
    public async Task Approval_notifies_the_requester()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        await using var db = Host.NewDb();
        var notification = Assert.Single(await db.Notifications.Where(n => n.UserId == s.Requester.UserId).ToListAsync(Ct));
        Assert.Equal(NotificationKind.RequestDecided, notification.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Reject_without_a_reason_is_refused_on_the_reason_field_and_changes_nothing(string reason)
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Decisions().RejectAsync(s.Approver, id, reason, Ct));

        Assert.Equal("Say why the request is rejected; the requester sees it.", error.For("Reason"));
        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
    }

    [Fact]
    public async Task Reject_with_a_reason_closes_the_request_and_puts_the_reason_on_the_timeline()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().RejectAsync(s.Approver, id, " Use the small size. ", Ct);

        var request = await Host.RequestAsync(id);
        var last = request.Timeline.OrderBy(e => e.Id).Last();
        Assert.Equal((RequestState.Rejected, "Use the small size."), (request.State, request.Reason));
        Assert.Equal((RequestState.Rejected, s.Approver.UserId), (last.To, last.ActorId));
        Assert.Contains("Use the small size.", last.Message, StringComparison.Ordinal);
        Assert.Empty(await Host.ResourcesAsync(s.TenantId));
    }

    [Fact]
    public async Task Requester_cannot_approve_their_own_request_even_as_an_approver()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await Host.Tenants.AddMemberAsync(Actor.System, s.TenantId, s.Approver.Name, TenantRole.Member, Ct);
        var id = await Host.Drafts().SubmitAsync(s.Approver, s.LargeVm("big"), Ct);

        var error = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Decisions().ApproveAsync(s.Approver, id, Ct));

        Assert.Equal("You cannot decide your own request.", error.Message);
        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
    }

    [Fact]
    public async Task Member_without_the_approver_role_cannot_approve_and_the_denial_is_audited()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Decisions().ApproveAsync(s.OtherMember, id, Ct));

        var denial = Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal((s.OtherMember.UserId, (Guid?)s.TenantId), (denial.ActorId, denial.TenantId));
        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
        Assert.Empty(await Host.ResourcesAsync(s.TenantId));
    }

    [Fact]
    public async Task Approving_a_rejected_request_is_refused_with_a_clear_message()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        await Host.Decisions().RejectAsync(s.Approver, id, "Too big.", Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Decisions().ApproveAsync(s.Admin, id, Ct));

        Assert.Equal("The request is already rejected; it cannot be approved.", error.Message);
        Assert.Equal(RequestState.Rejected, (await Host.RequestAsync(id)).State);
    }

    [Fact]
    public async Task Approving_stage_one_of_two_moves_the_request_to_stage_two_and_notifies_its_approver()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.Stages =
        [
            new ApprovalStage { ApproverIds = [s.Approver.UserId] },
            new ApprovalStage { ApproverIds = [second.UserId] },
        ]);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal((RequestState.PendingApproval, 2, 2), (request.State, request.CurrentStage, request.StageCount));
        await using var db = Host.NewDb();
        var notification = Assert.Single(await db.Notifications.Where(n => n.UserId == second.UserId).ToListAsync(Ct));
        Assert.Equal(NotificationKind.ApprovalNeeded, notification.Kind);
        Assert.Empty(await Host.ResourcesAsync(s.TenantId));
    }

    [Fact]
    public async Task Approving_the_last_of_two_stages_approves_the_request()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.Stages =
        [
            new ApprovalStage { ApproverIds = [s.Approver.UserId] },
            new ApprovalStage { ApproverIds = [second.UserId] },
        ]);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        await Host.Decisions().ApproveAsync(second, id, Ct);

        Assert.Equal(RequestState.Approved, (await Host.RequestAsync(id)).State);
        Assert.Single(await Host.ResourcesAsync(s.TenantId));
    }

    [Fact]
    public async Task Approver_of_stage_one_cannot_decide_stage_two()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.Stages =
        [
            new ApprovalStage { ApproverIds = [s.Approver.UserId] },
            new ApprovalStage { ApproverIds = [second.UserId] },
        ]);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        var error = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Decisions().ApproveAsync(s.Approver, id, Ct));

        Assert.Equal("You are not an approver of stage 2 for this tenant.", error.Message);
    }

    [Fact]
    public async Task All_of_stage_stays_pending_after_one_of_two_approvals_and_says_who_is_still_needed()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.Stages =
            [new ApprovalStage { Mode = StageMode.AllOf, ApproverIds = [s.Approver.UserId, second.UserId] }]);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal((RequestState.PendingApproval, 1), (request.State, request.CurrentStage));
        Assert.EndsWith("still needs second@test.local", request.Timeline.OrderBy(e => e.Id).Last().Message, StringComparison.Ordinal);
        Assert.Empty(await Host.ResourcesAsync(s.TenantId));
    }

    [Fact]
    public async Task All_of_stage_approves_once_every_named_approver_has_approved()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.Stages =
            [new ApprovalStage { Mode = StageMode.AllOf, ApproverIds = [s.Approver.UserId, second.UserId] }]);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        await Host.Decisions().ApproveAsync(second, id, Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal(RequestState.Approved, request.State);
        Assert.Equal(2, request.Approvals.Count);
        Assert.Single(await Host.ResourcesAsync(s.TenantId));
    }

    [Fact]
    public async Task All_of_approver_cannot_approve_the_same_stage_twice()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var second = await Host.CreateUserAsync("second@test.local", GlobalRoles.Approver);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.Stages =
            [new ApprovalStage { Mode = StageMode.AllOf, ApproverIds = [s.Approver.UserId, second.UserId] }]);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        await Host.Decisions().ApproveAsync(s.Approver, id, Ct);

        var error = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Decisions().ApproveAsync(s.Approver, id, Ct));

        Assert.Equal("You already approved this stage.", error.Message);
        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
    }
}
