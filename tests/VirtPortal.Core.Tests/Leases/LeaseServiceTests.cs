using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Leases;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Leases;

/// <summary>
/// Lease passes over a VM leased for 7 days from the start of the fake clock, under the default options
/// (warned 3 days ahead, deleted 7 days after expiry) unless a test configures others.
/// </summary>
public sealed class LeaseServiceTests : PortalTestBase
{
    /// <summary>How often the lease monitor runs a pass; also the clock's smallest step here.</summary>
    private static readonly TimeSpan MonitorTick = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan LeaseLength = TimeSpan.FromDays(7);

    private static readonly TimeSpan WarningWindow = TimeSpan.FromDays(new LeaseOptions().WarningDays);

    private static readonly TimeSpan GracePeriod = TimeSpan.FromDays(new LeaseOptions().GraceDays);

    [Fact]
    public async Task A_lease_ending_beyond_the_warning_window_is_left_alone()
    {
        var (s, vm) = await ArrangeAsync(Host);
        Host.Time.Advance(LeaseLength - WarningWindow - MonitorTick);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 0, 0), pass);
        var after = await ResourceAsync(Host, vm.Id);
        Assert.Equal((ResourceState.Running, (DateTimeOffset?)null, 1L), (after.State, after.LeaseWarningSentAt, after.Version));
        Assert.Empty(await NotificationsAsync(Host, s.TenantId));
        Assert.Empty(await OperationsAsync(Host, vm.Id));
        Assert.Empty(await Host.AuditAsync("resource.lease-warning"));
    }

    [Fact]
    public async Task Entering_the_warning_window_warns_every_member_with_a_link_to_the_extension_form()
    {
        var (s, vm) = await ArrangeAsync(Host);
        Host.Time.Advance(LeaseLength - WarningWindow);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(1, 0, 0), pass);
        var notifications = await NotificationsAsync(Host, s.TenantId);
        Assert.Equal(Members(s), notifications.Select(n => n.UserId).Order().ToList());
        Assert.All(notifications, n =>
        {
            Assert.Equal(NotificationKind.LeaseWarning, n.Kind);
            Assert.Equal($"/requests/new?tenant={s.TenantId}&kind=ExtendLease&resource={vm.Id}", n.Link);
        });
        var audit = Assert.Single(await Host.AuditAsync("resource.lease-warning"));
        Assert.Equal((Actor.System.UserId, (Guid?)s.TenantId, "VM web"), (audit.ActorId, audit.TenantId, audit.Target));
        Assert.Equal(Host.Time.GetUtcNow(), (await ResourceAsync(Host, vm.Id)).LeaseWarningSentAt);
        Assert.Empty(await OperationsAsync(Host, vm.Id));
    }

    [Fact]
    public async Task A_second_pass_in_the_warning_window_warns_nobody()
    {
        var (s, vm) = await ArrangeAsync(Host);
        Host.Time.Advance(LeaseLength - WarningWindow);
        await Leases(Host).ProcessAsync(Ct);
        var warnedAt = Host.Time.GetUtcNow();
        Host.Time.Advance(TimeSpan.FromDays(1));

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 0, 0), pass);
        Assert.Equal(Members(s).Count, (await NotificationsAsync(Host, s.TenantId)).Count);
        Assert.Single(await Host.AuditAsync("resource.lease-warning"));
        Assert.Equal(warnedAt, (await ResourceAsync(Host, vm.Id)).LeaseWarningSentAt);
    }

    [Fact]
    public async Task At_the_lease_end_the_resource_expires_with_one_pending_shutdown()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await WarnAsync(Host);
        Host.Time.Advance(WarningWindow);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 1, 0), pass);
        var now = Host.Time.GetUtcNow();
        var after = await ResourceAsync(Host, vm.Id);
        Assert.Equal((ResourceState.Expired, (DateTimeOffset?)now), (after.State, after.ExpiredAt));
        var shutdown = Assert.Single(await OperationsAsync(Host, vm.Id));
        Assert.Equal((OperationKind.Shutdown, OperationState.Pending, Actor.System.UserId), (shutdown.Kind, shutdown.State, shutdown.RequestedBy));
        var audit = Assert.Single(await Host.AuditAsync("resource.expired"));
        Assert.Equal((Actor.System.UserId, (Guid?)s.TenantId), (audit.ActorId, audit.TenantId));
        var expiryNotices = (await NotificationsAsync(Host, s.TenantId)).Where(n => n.At == now).ToList();
        Assert.Equal(Members(s), expiryNotices.Select(n => n.UserId).Order().ToList());
    }

    [Fact]
    public async Task A_second_pass_after_expiry_adds_nothing()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await ExpireAsync(Host);
        var notified = (await NotificationsAsync(Host, s.TenantId)).Count;
        Host.Time.Advance(MonitorTick);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 0, 0), pass);
        Assert.Single(await OperationsAsync(Host, vm.Id));
        Assert.Single(await Host.AuditAsync("resource.expired"));
        Assert.Equal(notified, (await NotificationsAsync(Host, s.TenantId)).Count);
        Assert.Equal(ResourceState.Expired, (await ResourceAsync(Host, vm.Id)).State);
    }

    [Fact]
    public async Task An_expired_resource_is_kept_until_the_grace_period_is_over()
    {
        var (_, vm) = await ArrangeAsync(Host);
        await ExpireAsync(Host);
        Host.Time.Advance(GracePeriod - MonitorTick);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 0, 0), pass);
        Assert.Equal(ResourceState.Expired, (await ResourceAsync(Host, vm.Id)).State);
        Assert.DoesNotContain(await OperationsAsync(Host, vm.Id), o => o.Kind == OperationKind.Delete);
        Assert.Empty(await Host.AuditAsync("resource.lease-deleted"));
    }

    [Fact]
    public async Task After_the_grace_period_the_expired_resource_is_deleted_with_one_pending_delete()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await ExpireAsync(Host);
        Host.Time.Advance(GracePeriod);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 0, 1), pass);
        Assert.Equal(ResourceState.Deleting, (await ResourceAsync(Host, vm.Id)).State);
        var delete = Assert.Single(await OperationsAsync(Host, vm.Id), o => o.Kind == OperationKind.Delete);
        Assert.Equal((OperationState.Pending, Actor.System.UserId), (delete.State, delete.RequestedBy));
        var audit = Assert.Single(await Host.AuditAsync("resource.lease-deleted"));
        Assert.Equal((Actor.System.UserId, (Guid?)s.TenantId), (audit.ActorId, audit.TenantId));
        var now = Host.Time.GetUtcNow();
        var deletionNotices = (await NotificationsAsync(Host, s.TenantId)).Where(n => n.At == now).ToList();
        Assert.Equal(Members(s), deletionNotices.Select(n => n.UserId).Order().ToList());
    }

    [Fact]
    public async Task A_second_pass_after_the_lease_deletion_adds_nothing()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await ExpireAsync(Host);
        Host.Time.Advance(GracePeriod);
        await Leases(Host).ProcessAsync(Ct);
        var notified = (await NotificationsAsync(Host, s.TenantId)).Count;
        Host.Time.Advance(MonitorTick);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal(new LeasePass(0, 0, 0), pass);
        Assert.Equal(ResourceState.Deleting, (await ResourceAsync(Host, vm.Id)).State);
        Assert.Equal(2, (await OperationsAsync(Host, vm.Id)).Count);
        Assert.Single(await Host.AuditAsync("resource.lease-deleted"));
        Assert.Equal(notified, (await NotificationsAsync(Host, s.TenantId)).Count);
    }

    [Fact]
    public async Task A_configured_warning_period_decides_when_members_are_warned()
    {
        await using var host = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Leases:WarningDays"] = "1" });
        await ArrangeAsync(host);
        host.Time.Advance(LeaseLength - TimeSpan.FromDays(1) - MonitorTick);
        var early = await Leases(host).ProcessAsync(Ct);
        host.Time.Advance(MonitorTick);

        var due = await Leases(host).ProcessAsync(Ct);

        Assert.Equal((new LeasePass(0, 0, 0), new LeasePass(1, 0, 0)), (early, due));
    }

    [Fact]
    public async Task With_no_grace_period_the_resource_is_deleted_on_the_pass_after_its_expiry()
    {
        await using var host = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Leases:WarningDays"] = "1", ["Leases:GraceDays"] = "0" });
        var (_, vm) = await ArrangeAsync(host);
        host.Time.Advance(LeaseLength);
        var expiry = await Leases(host).ProcessAsync(Ct);
        var stateAfterExpiry = (await ResourceAsync(host, vm.Id)).State;
        host.Time.Advance(MonitorTick);

        var next = await Leases(host).ProcessAsync(Ct);

        Assert.Equal((new LeasePass(0, 1, 0), ResourceState.Expired), (expiry, stateAfterExpiry));
        Assert.Equal(new LeasePass(0, 0, 1), next);
        Assert.Equal(ResourceState.Deleting, (await ResourceAsync(host, vm.Id)).State);
        Assert.Equal([OperationKind.Shutdown, OperationKind.Delete], (await OperationsAsync(host, vm.Id)).Select(o => o.Kind));
    }

    [Theory]
    [InlineData(ResourceState.Deleted)]
    [InlineData(ResourceState.Failed)]
    public async Task Deleted_and_failed_resources_are_ignored(ResourceState state)
    {
        var (s, vm) = await ArrangeAsync(Host);
        await SetStateAsync(Host, vm.Id, state);
        Host.Time.Advance(LeaseLength - WarningWindow);
        var inWindow = await Leases(Host).ProcessAsync(Ct);
        Host.Time.Advance(WarningWindow + GracePeriod);

        var pastGrace = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal((new LeasePass(0, 0, 0), new LeasePass(0, 0, 0)), (inWindow, pastGrace));
        var after = await ResourceAsync(Host, vm.Id);
        Assert.Equal((state, (DateTimeOffset?)null, (DateTimeOffset?)null), (after.State, after.LeaseWarningSentAt, after.ExpiredAt));
        Assert.Empty(await OperationsAsync(Host, vm.Id));
        Assert.Empty(await NotificationsAsync(Host, s.TenantId));
    }

    [Fact]
    public async Task Extending_a_lease_in_the_warning_window_moves_its_end_and_a_later_window_warns_again()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await WarnAsync(Host);

        var requestId = await Host.Drafts().SubmitAsync(s.Requester, ExtendLease(s, vm.Id, 10), Ct);

        Assert.Equal(RequestState.Completed, (await Host.RequestAsync(requestId)).State);
        var extended = await ResourceAsync(Host, vm.Id);
        Assert.Equal((vm.LeaseEndsAt.AddDays(10), (DateTimeOffset?)null), (extended.LeaseEndsAt, extended.LeaseWarningSentAt));
        Assert.Equal(new LeasePass(0, 0, 0), await Leases(Host).ProcessAsync(Ct));
        Host.Time.Advance(TimeSpan.FromDays(10));
        Assert.Equal(new LeasePass(1, 0, 0), await Leases(Host).ProcessAsync(Ct));
        Assert.Equal(2, (await Host.AuditAsync("resource.lease-warning")).Count);
    }

    [Fact]
    public async Task Extending_an_expired_resource_brings_it_back_shut_off()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await ExpireAsync(Host);

        await Host.Drafts().SubmitAsync(s.Requester, ExtendLease(s, vm.Id, 10), Ct);

        var back = await ResourceAsync(Host, vm.Id);
        Assert.Equal((ResourceState.Shutoff, (DateTimeOffset?)null, Host.Time.GetUtcNow().AddDays(10)), (back.State, back.ExpiredAt, back.LeaseEndsAt));
    }

    [Fact]
    public async Task A_resource_back_from_expiry_is_neither_deleted_nor_expired_again_by_later_passes()
    {
        var (s, vm) = await ArrangeAsync(Host);
        await ExpireAsync(Host);
        await Host.Drafts().SubmitAsync(s.Requester, ExtendLease(s, vm.Id, 10), Ct);
        Host.Time.Advance(GracePeriod);

        var pass = await Leases(Host).ProcessAsync(Ct);

        Assert.Equal((0, 0), (pass.Expired, pass.Deleted));
        Assert.Equal(ResourceState.Shutoff, (await ResourceAsync(Host, vm.Id)).State);
        Assert.DoesNotContain(await OperationsAsync(Host, vm.Id), o => o.Kind == OperationKind.Delete);
        Assert.Single(await Host.AuditAsync("resource.expired"));
    }

    [Fact]
    public async Task A_live_subscriber_sees_the_resource_change_at_each_lease_step()
    {
        var (_, vm) = await ArrangeAsync(Host);
        var changes = Channel.CreateUnbounded<ResourceChanged>();
        using var subscription = Host.Services.GetRequiredService<LiveUpdates>().Subscribe(message =>
            message is ResourceChanged changed ? changes.Writer.WriteAsync(changed, Ct).AsTask() : Task.CompletedTask);

        Host.Time.Advance(LeaseLength - WarningWindow);
        await Leases(Host).ProcessAsync(Ct);
        var warned = await NextAsync(changes);
        Host.Time.Advance(WarningWindow);
        await Leases(Host).ProcessAsync(Ct);
        var expired = await NextAsync(changes);
        Host.Time.Advance(GracePeriod);
        await Leases(Host).ProcessAsync(Ct);
        var deleted = await NextAsync(changes);

        Assert.Equal(
            [new ResourceChanged(vm.TenantId, vm.Id, 2), new ResourceChanged(vm.TenantId, vm.Id, 3), new ResourceChanged(vm.TenantId, vm.Id, 4)],
            [warned, expired, deleted]);
        Assert.False(changes.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_lease_warning_announces_each_member_s_notification_on_the_bus()
    {
        var (s, _) = await ArrangeAsync(Host);
        var added = Channel.CreateUnbounded<NotificationAdded>();
        using var subscription = Host.Services.GetRequiredService<LiveUpdates>().Subscribe(message =>
            message is NotificationAdded notification ? added.Writer.WriteAsync(notification, Ct).AsTask() : Task.CompletedTask);
        Host.Time.Advance(LeaseLength - WarningWindow);

        await Leases(Host).ProcessAsync(Ct);

        var announced = new List<NotificationAdded>();
        for (var i = 0; i < Members(s).Count; i++)
            announced.Add(await NextAsync(added));
        var stored = await NotificationsAsync(Host, s.TenantId);
        Assert.Equal(stored.Select(n => (n.UserId, n.Id)).Order(), announced.Select(a => (a.UserId, a.NotificationId)).Order());
    }

    // ---- arrange and inspect ------------------------------------------------------------------

    private static LeaseService Leases(PortalTestHost host) => host.Services.GetRequiredService<LeaseService>();

    /// <summary>The request scenario's tenant (three members) with a running VM "web" leased for 7 days.</summary>
    private static async Task<(RequestScenario Scenario, Resource Vm)> ArrangeAsync(PortalTestHost host)
    {
        var scenario = await RequestTestData.ArrangeAsync(host);
        var vm = await RequestTestData.AddVmAsync(host, scenario.TenantId, "web", TestCatalog.SmallVm);
        return (scenario, vm);
    }

    private static List<string> Members(RequestScenario s) => [.. new[] { s.Requester.UserId, s.Owner.UserId, s.OtherMember.UserId }.Order()];

    /// <summary>Moves the clock to the start of the warning window and runs the pass that warns.</summary>
    private static async Task WarnAsync(PortalTestHost host)
    {
        host.Time.Advance(LeaseLength - WarningWindow);
        Assert.Equal(new LeasePass(1, 0, 0), await Leases(host).ProcessAsync(Ct));
    }

    /// <summary>Warns, then moves the clock to the lease end and runs the pass that expires.</summary>
    private static async Task ExpireAsync(PortalTestHost host)
    {
        await WarnAsync(host);
        host.Time.Advance(WarningWindow);
        Assert.Equal(new LeasePass(0, 1, 0), await Leases(host).ProcessAsync(Ct));
    }

    private static RequestDraft ExtendLease(RequestScenario s, Guid resourceId, int days) => new()
    {
        Kind = RequestKind.ExtendLease,
        TenantId = s.TenantId,
        ResourceId = resourceId,
        LeaseDays = days,
        Justification = "still needed",
    };

    private static async Task SetStateAsync(PortalTestHost host, Guid resourceId, ResourceState state)
    {
        await using var db = host.NewDb();
        var resource = await db.Resources.SingleAsync(r => r.Id == resourceId, Ct);
        resource.State = state;
        await db.SaveChangesAsync(Ct);
    }

    private static async Task<Resource> ResourceAsync(PortalTestHost host, Guid resourceId)
    {
        await using var db = host.NewDb();
        return await db.Resources.AsNoTracking().SingleAsync(r => r.Id == resourceId, Ct);
    }

    private static async Task<List<Operation>> OperationsAsync(PortalTestHost host, Guid resourceId)
    {
        await using var db = host.NewDb();
        var operations = await db.Operations.AsNoTracking().Where(o => o.ResourceId == resourceId).ToListAsync(Ct);
        return [.. operations.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id)];
    }

    private static async Task<List<Notification>> NotificationsAsync(PortalTestHost host, Guid tenantId)
    {
        await using var db = host.NewDb();
        return await db.Notifications.AsNoTracking().Where(n => n.TenantId == tenantId).OrderBy(n => n.Id).ToListAsync(Ct);
    }

    /// <summary>The next message the subscriber got; delivery runs off the publisher's thread.</summary>
    private static async Task<T> NextAsync<T>(Channel<T> channel) =>
        await channel.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
}
