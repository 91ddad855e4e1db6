using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Tests.Requests;

public sealed class RequestSubmitTests : PortalTestBase
{
    [Fact]
    public async Task Request_within_auto_approval_rules_is_approved_at_once_with_a_provisioning_resource()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var now = Host.Time.GetUtcNow();

        var id = await Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web", leaseDays: 7), Ct);

        var request = await Host.RequestAsync(id);
        var resource = Assert.Single(await Host.ResourcesAsync(s.TenantId));
        Assert.Equal(RequestState.Approved, request.State);
        Assert.Equal((request.ResourceId, "web", ResourceState.Provisioning), ((Guid?)resource.Id, resource.Name, resource.State));
        Assert.Equal(now.AddDays(7), resource.LeaseEndsAt);
        Assert.Equal((2, 4096, 40), (resource.VCpus, resource.RamMiB, resource.DiskGiB));
    }

    [Fact]
    public async Task Auto_approved_request_queues_exactly_one_pending_create_operation()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var id = await Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web"), Ct);

        await using var db = Host.NewDb();
        var operation = Assert.Single(await db.Operations.ToListAsync(Ct));
        var request = await Host.RequestAsync(id);
        Assert.Equal((OperationKind.Create, OperationState.Pending, (Guid?)id), (operation.Kind, operation.State, operation.RequestId));
        Assert.Equal(request.ResourceId, operation.ResourceId);
    }

    [Fact]
    public async Task Auto_approved_request_has_submitted_and_approved_on_its_timeline_and_in_the_audit()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var id = await Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web"), Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal([RequestState.Submitted, RequestState.Approved], request.Timeline.OrderBy(e => e.Id).Select(e => e.To));
        Assert.Equal(s.Requester.UserId, Assert.Single(await Host.AuditAsync("request.submitted")).ActorId);
        Assert.Equal("policy", Assert.Single(await Host.AuditAsync("request.approved")).ActorId);
    }

    [Fact]
    public async Task Auto_approved_request_notifies_the_requester()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        await Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web"), Ct);

        await using var db = Host.NewDb();
        var notification = Assert.Single(await db.Notifications.ToListAsync(Ct));
        Assert.Equal((s.Requester.UserId, NotificationKind.RequestDecided), (notification.UserId, notification.Kind));
        Assert.Equal("Your request for VM web was approved.", notification.Text);
    }

    [Fact]
    public async Task Submitting_publishes_a_request_change_to_live_subscribers()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var received = new TaskCompletionSource<RequestChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = Host.Services.GetRequiredService<LiveUpdates>().Subscribe(message =>
        {
            if (message is RequestChanged changed)
                received.TrySetResult(changed);
            return Task.CompletedTask;
        });

        var id = await Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web"), Ct);

        var message = await received.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal((s.TenantId, id), (message.TenantId!.Value, message.EntityId));
        Assert.Equal((await Host.RequestAsync(id)).Version, message.Version);
    }

    [Fact]
    public async Task Request_over_auto_approval_limits_waits_at_stage_one_with_a_deadline()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetPolicyAsync(Host, s.TenantId, p => p.ApprovalTimeLimit = TimeSpan.FromHours(36));
        var now = Host.Time.GetUtcNow();

        var id = await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        var request = await Host.RequestAsync(id);
        Assert.Equal((RequestState.PendingApproval, 1, 1), (request.State, request.CurrentStage, request.StageCount));
        Assert.Equal(now.AddHours(36), request.ApprovalDeadline);
    }

    [Fact]
    public async Task Request_over_auto_approval_limits_notifies_the_approvers_and_creates_nothing_yet()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        await Host.Drafts().SubmitAsync(s.Requester, s.LargeVm("big"), Ct);

        await using var db = Host.NewDb();
        var notification = Assert.Single(await db.Notifications.ToListAsync(Ct));
        Assert.Equal((s.Approver.UserId, NotificationKind.ApprovalNeeded), (notification.UserId, notification.Kind));
        Assert.Empty(await db.Resources.ToListAsync(Ct));
        Assert.Empty(await db.Operations.ToListAsync(Ct));
    }

    [Fact]
    public async Task Request_over_quota_is_refused_and_nothing_is_written()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.SetQuotaAsync(Host, s.TenantId, TenantQuota.Default with { Vms = 1 });
        await RequestTestData.AddVmAsync(Host, s.TenantId, "existing", TestCatalog.SmallVm);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Drafts().SubmitAsync(s.Requester, s.NewVm("web"), Ct));

        Assert.Contains("VMs: 1 used + 1 requested = 2, over the quota of 1", error.For(""), StringComparison.Ordinal);
        await using var db = Host.NewDb();
        Assert.Empty(await db.Requests.ToListAsync(Ct));
        Assert.Empty(await db.RequestEvents.ToListAsync(Ct));
        Assert.Empty(await Host.AuditAsync("request.submitted"));
    }

    [Fact]
    public async Task Non_member_cannot_submit_and_the_denial_is_audited()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var outsider = await Host.CreateUserAsync("outsider@test.local");

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Drafts().SubmitAsync(outsider, s.NewVm("web"), Ct));

        Assert.Equal(outsider.UserId, Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied)).ActorId);
        await using var db = Host.NewDb();
        Assert.Empty(await db.Requests.ToListAsync(Ct));
    }

    [Fact]
    public async Task Request_with_field_errors_is_refused_with_those_errors()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Host.Drafts().SubmitAsync(s.Requester, s.NewVm("Web"), Ct));

        Assert.Equal("Use lower-case letters only.", error.For("Name"));
        await using var db = Host.NewDb();
        Assert.Empty(await db.Requests.ToListAsync(Ct));
    }
}
