using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Live;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>What a connection hears: its tenants' changes, its own notifications, and what the access table lets it see portal-wide.</summary>
public sealed class LiveHubTenantScopeTests(LivePortal portal) : IClassFixture<LivePortal>
{
    [Fact]
    public async Task A_member_hears_their_tenants_resource_and_request_changes_and_nothing_of_another_tenant()
    {
        var member = await portal.CreateUserAsync();
        var outsider = await portal.CreateUserAsync();
        var tenantA = await portal.CreateTenantAsync((member, TenantRole.Member));
        var tenantB = await portal.CreateTenantAsync((outsider, TenantRole.Member));
        var vmA = await portal.CreateVmAsync(tenantA);
        var vmB = await portal.CreateVmAsync(tenantB);
        await using var listener = await portal.ListenAsync(member);

        await portal.RebootAsync(outsider, vmB);
        var requestB = await portal.SubmitQuotaRequestAsync(outsider, tenantB);
        await portal.RebootAsync(member, vmA);
        var requestA = await portal.SubmitQuotaRequestAsync(member, tenantA);

        var resource = await listener.WaitForAsync(LiveEvents.ResourceChanged, vmA);
        var request = await listener.WaitForAsync(LiveEvents.RequestChanged, requestA);
        await listener.SettleAfterAsync(LiveEvents.RequestChanged, requestA);
        Assert.Equal(["tenantId", "entityId", "version"], resource.Payload.EnumerateObject().Select(p => p.Name));
        Assert.Equal(tenantA, resource.TenantId);
        Assert.True(resource.Version > 1, $"the resource's version after the reboot, got {resource.Version}");
        Assert.Equal(tenantA, request.TenantId);
        Assert.DoesNotContain(listener.Received, e => e.TenantId == tenantB || e.EntityId == vmB || e.EntityId == requestB);
    }

    [Fact]
    public async Task Subscribing_to_another_tenants_metrics_is_refused_audited_with_that_tenant_and_streams_nothing()
    {
        var member = await portal.CreateUserAsync();
        var outsider = await portal.CreateUserAsync();
        var tenantA = await portal.CreateTenantAsync((member, TenantRole.Member));
        var tenantB = await portal.CreateTenantAsync((outsider, TenantRole.Owner));
        var vmA = await portal.CreateVmAsync(tenantA);
        var vmB = await portal.CreateVmAsync(tenantB);
        await using var listener = await portal.ListenAsync(member);

        await listener.Connection.InvokeAsync("SubscribeMetrics", vmA, TestContext.Current.CancellationToken);
        var refused = await Assert.ThrowsAsync<HubException>(() => listener.Connection.InvokeAsync("SubscribeMetrics", vmB, TestContext.Current.CancellationToken));
        portal.Live.Publish(LivePortal.Sample(tenantB, vmB));
        portal.Live.Publish(LivePortal.Sample(tenantA, vmA, cpu: 12.5));

        Assert.EndsWith("You do not have permission to do that.", refused.Message, StringComparison.Ordinal);
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var denial = await db.AuditEntries.SingleAsync(e => e.Action == AuditActions.AccessDenied && e.ActorId == member.UserId, TestContext.Current.CancellationToken);
            Assert.Equal(tenantB, denial.TenantId);
        }

        var sample = await listener.WaitForAsync(LiveEvents.Metrics, vmA);
        await listener.SettleAfterAsync(LiveEvents.Metrics, vmA);
        Assert.Equal(["resourceId", "point"], sample.Payload.EnumerateObject().Select(p => p.Name));
        var point = sample.Payload.GetProperty("point");
        Assert.Equal(
            ["at", "cpuPercent", "memoryUsedBytes", "memoryTotalBytes", "diskReadBytesPerSecond", "diskWriteBytesPerSecond", "netRxBytesPerSecond", "netTxBytesPerSecond"],
            point.EnumerateObject().Select(p => p.Name));
        Assert.Equal(12.5, point.GetProperty("cpuPercent").GetDouble());
        Assert.Equal(512L << 20, point.GetProperty("memoryUsedBytes").GetInt64());
        Assert.DoesNotContain(listener.Received, e => e.EntityId == vmB);
    }

    [Fact]
    public async Task A_databases_figures_reach_those_who_subscribed_to_it_and_another_tenants_stay_with_theirs()
    {
        var member = await portal.CreateUserAsync();
        var outsider = await portal.CreateUserAsync();
        var tenantA = await portal.CreateTenantAsync((member, TenantRole.Member));
        var tenantB = await portal.CreateTenantAsync((outsider, TenantRole.Owner));
        var databaseA = await portal.CreateDatabaseAsync(tenantA);
        var databaseB = await portal.CreateDatabaseAsync(tenantB);
        await using var listener = await portal.ListenAsync(member);

        await listener.Connection.InvokeAsync("SubscribeMetrics", databaseA, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<HubException>(() => listener.Connection.InvokeAsync("SubscribeMetrics", databaseB, TestContext.Current.CancellationToken));
        portal.Live.Publish(new DatabaseSampled(tenantB, databaseB, DateTimeOffset.UtcNow, 7L << 30, 70));
        portal.Live.Publish(new DatabaseSampled(tenantA, databaseA, DateTimeOffset.UtcNow, 5L << 20, 3));

        var figures = await listener.WaitForAsync(LiveEvents.DatabaseSampled, databaseA);
        await listener.SettleAfterAsync(LiveEvents.DatabaseSampled, databaseA);
        Assert.Equal(["resourceId", "at", "sizeBytes", "activeConnections"], figures.Payload.EnumerateObject().Select(p => p.Name));
        Assert.Equal(5L << 20, figures.Payload.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(3, figures.Payload.GetProperty("activeConnections").GetInt32());
        Assert.DoesNotContain(listener.Received, e => e.EntityId == databaseB);
    }

    [Fact]
    public async Task A_databases_chart_history_comes_to_its_tenant_and_another_tenants_is_refused_and_audited()
    {
        var member = await portal.CreateUserAsync();
        var outsider = await portal.CreateUserAsync();
        var tenantA = await portal.CreateTenantAsync((member, TenantRole.Member));
        var tenantB = await portal.CreateTenantAsync((outsider, TenantRole.Owner));
        var databaseA = await portal.CreateDatabaseAsync(tenantA);
        var databaseB = await portal.CreateDatabaseAsync(tenantB);
        var bucket = DatabaseFigureHistory.BucketOf(DateTimeOffset.UtcNow.AddHours(-2));
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            db.DatabaseFigureRollups.AddRange(
                new DatabaseFigureRollup { ResourceId = databaseA, BucketStart = bucket, Samples = 20, SizeBytes = 8L << 20, PeakConnections = 4 },
                new DatabaseFigureRollup { ResourceId = databaseA, BucketStart = bucket + DatabaseFigureHistory.Bucket, Samples = 20, SizeBytes = 9L << 20, PeakConnections = 6 },
                new DatabaseFigureRollup { ResourceId = databaseB, BucketStart = bucket, Samples = 20, SizeBytes = 1L << 30, PeakConnections = 50 });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using var listener = await portal.ListenAsync(member);
        var series = await listener.Connection.InvokeAsync<System.Text.Json.JsonElement>("GetDatabaseSeries", databaseA, "Day", TestContext.Current.CancellationToken);
        var refused = await Assert.ThrowsAsync<HubException>(() => listener.Connection.InvokeAsync<System.Text.Json.JsonElement>("GetDatabaseSeries", databaseB, "Day", TestContext.Current.CancellationToken));
        var badRange = await Assert.ThrowsAsync<HubException>(() => listener.Connection.InvokeAsync<System.Text.Json.JsonElement>("GetDatabaseSeries", databaseA, "Month", TestContext.Current.CancellationToken));

        var points = series.EnumerateArray().ToList();
        Assert.Equal(["at", "sizeBytes", "activeConnections"], points[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal([bucket, bucket + DatabaseFigureHistory.Bucket], points.Select(p => p.GetProperty("at").GetDateTimeOffset()));
        Assert.Equal([8L << 20, 9L << 20], points.Select(p => p.GetProperty("sizeBytes").GetInt64()));
        Assert.Equal([4, 6], points.Select(p => p.GetProperty("activeConnections").GetInt32()));
        Assert.EndsWith("You do not have permission to do that.", refused.Message, StringComparison.Ordinal);
        Assert.Contains("The range is one of FifteenMinutes, Hour, Day, Week, not 'Month'.", badRange.Message, StringComparison.Ordinal);
        await using (var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken))
        {
            var denial = await db.AuditEntries.SingleAsync(e => e.Action == AuditActions.AccessDenied && e.ActorId == member.UserId, TestContext.Current.CancellationToken);
            Assert.Equal(tenantB, denial.TenantId);
        }
    }

    [Fact]
    public async Task Staff_hear_every_tenant_once_and_only_those_the_table_lets_manage_hosts_hear_host_and_drift_changes()
    {
        var member = await portal.CreateUserAsync();
        var helpdesk = await portal.CreateUserAsync(GlobalRoles.Helpdesk);
        var admin = await portal.CreateUserAsync(GlobalRoles.Admin);
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vm = await portal.CreateVmAsync(tenant);
        await using var memberListener = await portal.ListenAsync(member);
        await using var helpdeskListener = await portal.ListenAsync(helpdesk);
        await using var adminListener = await portal.ListenAsync(admin);
        var hostId = Guid.NewGuid();

        portal.Live.Publish(new HostChanged(hostId));
        portal.Live.Publish(new DriftChanged(hostId));
        var sampledAt = DateTimeOffset.UtcNow;
        portal.Live.Publish(new HostSampled(hostId, sampledAt));
        await portal.RebootAsync(member, vm);

        var hostChange = await adminListener.WaitForAsync(LiveEvents.HostChanged, hostId);
        await adminListener.WaitForAsync(LiveEvents.DriftChanged, hostId);
        var sampled = await adminListener.WaitForAsync(LiveEvents.HostSampled, hostId);
        Assert.Equal(sampledAt.ToUnixTimeMilliseconds(), sampled.Version);
        await helpdeskListener.SettleAfterAsync(LiveEvents.ResourceChanged, vm);
        await memberListener.SettleAfterAsync(LiveEvents.ResourceChanged, vm);
        await adminListener.WaitForAsync(LiveEvents.ResourceChanged, vm);
        Assert.Null(hostChange.TenantId);
        var firstVersion = helpdeskListener.Received.First(e => e.EntityId == vm).Version;
        Assert.Single(helpdeskListener.Received, e => e.EntityId == vm && e.Version == firstVersion);
        Assert.DoesNotContain(helpdeskListener.Received, e => e.EntityId == hostId);
        Assert.DoesNotContain(memberListener.Received, e => e.EntityId == hostId);
    }

    [Fact]
    public async Task A_notification_reaches_only_its_user()
    {
        var member = await portal.CreateUserAsync();
        var colleague = await portal.CreateUserAsync();
        await portal.CreateTenantAsync((member, TenantRole.Member), (colleague, TenantRole.Member));
        await using var listener = await portal.ListenAsync(member);

        portal.Live.Publish(new NotificationAdded(colleague.UserId, 991));
        portal.Live.Publish(new NotificationAdded(member.UserId, 992));

        var notification = await listener.WaitForAsync(e => e.Name == LiveEvents.NotificationAdded && e.Version == 992, "the member's notification");
        await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        Assert.Null(notification.TenantId);
        Assert.DoesNotContain(listener.Received, e => e.Name == LiveEvents.NotificationAdded && e.Version == 991);
    }
}
