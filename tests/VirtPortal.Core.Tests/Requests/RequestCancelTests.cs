using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Tests.Requests;

public sealed class RequestCancelTests : PortalTestBase
{
    [Fact]
    public async Task Requester_cancels_a_pending_request()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().CancelAsync(s.Requester, id, Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal((RequestState.Cancelled, Host.Time.GetUtcNow()), (request.State, request.ClosedAt!.Value));
        Assert.Equal("cancelled by requester@test.local", request.Reason);
    }

    [Fact]
    public async Task Approved_request_cannot_be_cancelled()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web"), Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Decisions().CancelAsync(s.Requester, id, Ct));

        Assert.Equal("A request that is approved cannot be cancelled.", error.Message);
        Assert.Equal(RequestState.Approved, (await Host.RequestAsync(id)).State);
    }

    [Fact]
    public async Task Another_plain_member_cannot_cancel_someone_elses_request_and_the_denial_is_audited()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Decisions().CancelAsync(s.OtherMember, id, Ct));

        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
        Assert.Equal(s.OtherMember.UserId, Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied)).ActorId);
    }

    [Fact]
    public async Task Tenant_owner_cancels_a_members_pending_request()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await Host.Decisions().CancelAsync(s.Owner, id, Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal(RequestState.Cancelled, request.State);
        Assert.Equal(s.Owner.UserId, request.Timeline.OrderBy(e => e.Id).Last().ActorId);
    }
}
