using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Data;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tenancy;

/// <summary>
/// How many of a kind show each state, as the resource rows show it (the host's report where there is
/// one): running, stopped (shut off or expired), paused (paused or suspended to memory), and the rest
/// (being created or deleted, crashed, unknown). Deleted and failed resources are not counted.
/// </summary>
public sealed record StateCounts(int Running, int Stopped, int Paused, int Other)
{
    public int Total => Running + Stopped + Paused + Other;

    public static StateCounts Of(IEnumerable<ResourceState> shown)
    {
        ArgumentNullException.ThrowIfNull(shown);
        int running = 0, stopped = 0, paused = 0, other = 0;
        foreach (var state in shown)
        {
            switch (state)
            {
                case ResourceState.Deleted or ResourceState.Failed:
                    break;
                case ResourceState.Running:
                    running++;
                    break;
                case ResourceState.Shutoff or ResourceState.Expired:
                    stopped++;
                    break;
                case ResourceState.Paused or ResourceState.PMSuspended:
                    paused++;
                    break;
                default:
                    other++;
                    break;
            }
        }

        return new StateCounts(running, stopped, paused, other);
    }
}

/// <summary>
/// Showback for the calendar month (UTC) so far: each resource costs its hourly price for every hour it
/// existed this month, from its creation (or the month's start) to its deletion (or now), running or not,
/// as the catalog's monthly prices assume (a failed create is never asked about: it costs nothing). <see cref="HourlyNow"/> is
/// what the resources that exist now cost per hour; <see cref="Projected"/> adds that rate to the month's end.
/// </summary>
public sealed record MonthSpend(DateTimeOffset MonthStart, DateTimeOffset At, decimal SoFar, decimal HourlyNow, decimal Projected)
{
    /// <summary>One resource as showback sees it.</summary>
    public sealed record Item(decimal HourlyPrice, DateTimeOffset CreatedAt, DateTimeOffset? DeletedAt);

    public static DateTimeOffset MonthStartOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    public static MonthSpend Of(IEnumerable<Item> items, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(items);
        var start = MonthStartOf(now);
        var end = start.AddMonths(1);
        decimal soFar = 0, hourly = 0;
        foreach (var item in items)
        {
            var from = item.CreatedAt > start ? item.CreatedAt : start;
            var to = item.DeletedAt is { } deleted && deleted < now ? deleted : now;
            if (to > from)
                soFar += item.HourlyPrice * (decimal)(to - from).TotalHours;
            if (item.DeletedAt is null && item.CreatedAt <= now)
                hourly += item.HourlyPrice;
        }

        var projected = soFar + (hourly * (decimal)(end - now).TotalHours);
        return new MonthSpend(start, now, decimal.Round(soFar, 2), hourly, decimal.Round(projected, 2));
    }
}

/// <summary>What a tenant holds against its quota, dimension by dimension.</summary>
public sealed record QuotaUse(ResourceDemand Used, TenantQuota Quota);

/// <summary>The tenant dashboard: its VMs and databases by state, its quota use, and its spend this month.</summary>
public sealed record TenantDashboard(Guid TenantId, StateCounts Vms, StateCounts Databases, QuotaUse Quota, MonthSpend Spend);

/// <summary>The figures of the tenant dashboard, for those who may see the tenant's resources.</summary>
public sealed class TenantDashboards(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time)
{
    [Requires(Permission.ResourceView, AccessTargetKind.Tenant)]
    public async Task<TenantDashboard> GetAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Tenant(tenantId), "view the tenant dashboard", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var monthStart = MonthSpend.MonthStartOf(now);
        var quota = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.Quota).SingleAsync(ct);
        // Everything that exists, plus what was deleted this month (its hours still count).
        var rows = await db.Resources.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.State != ResourceState.Failed && (r.State != ResourceState.Deleted || r.DeletedAt == null || r.DeletedAt >= monthStart))
            .Select(r => new { r.Kind, r.State, r.ObservedState, r.VCpus, r.RamMiB, r.DiskGiB, r.HourlyPrice, r.CreatedAt, r.DeletedAt })
            .ToListAsync(ct);
        var live = rows.Where(r => r.State != ResourceState.Deleted).ToList();
        // As quota checks count it: the live resources and the databases' kept backups.
        var used = await RequestWorkflow.UsageAsync(db, tenantId, ct);
        StateCounts Count(ResourceKind kind) =>
            StateCounts.Of(live.Where(r => r.Kind == kind).Select(r => ResourceLifecycle.Shown(r.State, r.ObservedState)));
        // A resource deleted before DeletedAt was recorded has no end: it counts until its creation only.
        var spend = MonthSpend.Of(rows.Select(r => new MonthSpend.Item(
            r.HourlyPrice, r.CreatedAt, r.State == ResourceState.Deleted ? r.DeletedAt ?? r.CreatedAt : null)), now);
        return new TenantDashboard(tenantId, Count(ResourceKind.Vm), Count(ResourceKind.Database), new QuotaUse(used, quota), spend);
    }
}
