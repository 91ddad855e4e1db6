using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Monitoring;

/// <summary>
/// Metrics as pages, the live hub and the API read them, through the access service: a resource's
/// series and newest point need ResourceView on it, a tenant's sums ResourceView on the tenant, a
/// host's sums HostsManage.
/// </summary>
public sealed class MetricsQueries(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, MetricStore store, IOptions<MonitoringOptions> options, TimeProvider time)
{
    /// <summary>
    /// The chart of <paramref name="range"/>, oldest first: the last 15 minutes at full resolution from
    /// memory, the last hour and day as minute averages, the last week as hourly averages (a rollup's
    /// <see cref="MetricPoint.At"/> is the start of its bucket).
    /// </summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<IReadOnlyList<MetricPoint>> SeriesAsync(Actor actor, Guid resourceId, MetricRange range, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "read metrics", ct);
        var now = time.GetUtcNow();
        if (range == MetricRange.FifteenMinutes)
            return store.Window(resourceId, now - TimeSpan.FromMinutes(15));
        var (resolution, span) = range switch
        {
            MetricRange.Hour => (MetricResolution.Minute, TimeSpan.FromHours(1)),
            MetricRange.Day => (MetricResolution.Minute, TimeSpan.FromDays(1)),
            MetricRange.Week => (MetricResolution.Hour, TimeSpan.FromDays(7)),
            _ => throw new ArgumentOutOfRangeException(nameof(range), range, "not a chart range"),
        };
        var since = MetricRollups.BucketOf(now - span, resolution);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.MetricRollups.AsNoTracking()
            .Where(r => r.ResourceId == resourceId && r.Resolution == resolution && r.BucketStart >= since)
            .OrderBy(r => r.BucketStart).ToListAsync(ct);
        return [.. rows.Select(r => r.ToPoint())];
    }

    /// <summary>
    /// The resource's newest point; null when it gave none within the last three intervals (it is shut
    /// off, its host is silent, or it was never sampled).
    /// </summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<MetricPoint?> LatestAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "read metrics", ct);
        return store.Latest(resourceId) is { } point && point.At >= time.GetUtcNow() - (3 * options.Value.Interval) ? point : null;
    }

    /// <summary>The sums over the tenant's VMs in every host's last sample; null when none was sampled.</summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Tenant)]
    public async Task<MetricTotals?> TenantTotalsAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Tenant(tenantId), "read tenant metrics", ct);
        return store.Tenant(tenantId);
    }

    /// <summary>The host's last sample (its sums, whether it answered, how long sampling took); null before its first.</summary>
    [Requires(Permission.HostsManage)]
    public async Task<HostSample?> HostTotalsAsync(Actor actor, Guid hostId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.HostsManage, AccessTarget.Portal, "read host metrics", ct);
        return store.Host(hostId);
    }
}
