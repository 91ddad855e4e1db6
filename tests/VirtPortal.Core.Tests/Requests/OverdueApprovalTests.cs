using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Tests.Requests;

public sealed class OverdueApprovalTests : PortalTestBase
{
    private static readonly TimeSpan Limit = TimeSpan.FromDays(2);

    [Fact]
    public async Task Request_within_the_time_limit_is_left_alone()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => (p.ApprovalTimeLimit, p.OnTimeout) = (Limit, ApprovalTimeoutAction.Expire));
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        Host.Time.Advance(Limit - TimeSpan.FromMinutes(1));

        var handled = await Host.Decisions().HandleOverdueAsync(Ct);

        Assert.Equal(0, handled);
        Assert.Equal(RequestState.PendingApproval, (await Host.RequestAsync(id)).State);
    }

    [Fact]
    public async Task Overdue_request_expires_when_the_policy_says_expire_and_the_requester_is_told()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => (p.ApprovalTimeLimit, p.OnTimeout) = (Limit, ApprovalTimeoutAction.Expire));
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        Host.Time.Advance(Limit + TimeSpan.FromMinutes(1));

        var handled = await Host.Decisions().HandleOverdueAsync(Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal(1, handled);
        Assert.Equal((RequestState.Expired, "no decision within the approval time limit"), (request.State, request.Reason));
        await using var db = Host.NewDb();
        Assert.Single(await db.Notifications.Where(n => n.UserId == s.Requester.UserId).ToListAsync(Ct));
    }

    [Fact]
    public async Task Overdue_request_is_escalated_to_admins_when_the_policy_says_escalate()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => (p.ApprovalTimeLimit, p.OnTimeout) = (Limit, ApprovalTimeoutAction.EscalateToAdmins));
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        Host.Time.Advance(Limit + TimeSpan.FromMinutes(1));

        var handled = await Host.Decisions().HandleOverdueAsync(Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal(1, handled);
        Assert.Equal((RequestState.PendingApproval, true, (DateTimeOffset?)null), (request.State, request.Escalated, request.ApprovalDeadline));
        await using var db = Host.NewDb();
        var notification = Assert.Single(await db.Notifications.Where(n => n.UserId == s.Admin.UserId).ToListAsync(Ct));
        Assert.Equal(NotificationKind.ApprovalNeeded, notification.Kind);
        Assert.StartsWith("Escalated: ", notification.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handling_overdue_requests_again_changes_nothing_more()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => (p.ApprovalTimeLimit, p.OnTimeout) = (Limit, ApprovalTimeoutAction.EscalateToAdmins));
        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        Host.Time.Advance(Limit + TimeSpan.FromMinutes(1));
        await Host.Decisions().HandleOverdueAsync(Ct);
        var version = (await Host.RequestAsync(id)).Version;
        Host.Time.Advance(Limit * 3);

        var handled = await Host.Decisions().HandleOverdueAsync(Ct);

        Assert.Equal(0, handled);
        Assert.Equal(version, (await Host.RequestAsync(id)).Version);
        Assert.Single(await Host.AuditAsync("request.escalated"));
        await using var db = Host.NewDb();
        Assert.Single(await db.Notifications.Where(n => n.UserId == s.Admin.UserId).ToListAsync(Ct));
    }

    [Fact]
    public async Task Expired_request_is_not_handled_twice()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => (p.ApprovalTimeLimit, p.OnTimeout) = (Limit, ApprovalTimeoutAction.Expire));
        await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);
        Host.Time.Advance(Limit + TimeSpan.FromMinutes(1));
        await Host.Decisions().HandleOverdueAsync(Ct);

        var handled = await Host.Decisions().HandleOverdueAsync(Ct);

        Assert.Equal(0, handled);
        Assert.Single(await Host.AuditAsync("request.expired"));
    }
}
