using VirtPortal.Core.Access;
using VirtPortal.Core.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;
using VirtPortal.Core.Leases;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Resources;

/// <summary>
/// One resource as a row shows it. <see cref="State"/> is what it shows and what actions are offered for:
/// the host's report where there is one (<see cref="ResourceLifecycle.Shown(ResourceState, ResourceState?)"/>);
/// <see cref="WantedState"/> is the portal's. <see cref="Difference"/> says when the two part outside an
/// operation, and <see cref="ConfirmedAt"/> when the host last confirmed it.
/// </summary>
public sealed record ResourceSummary(
    Guid Id, Guid TenantId, string Name, ResourceKind Kind, ResourceState State, int VCpus, int RamMiB, int DiskGiB,
    DateTimeOffset LeaseEndsAt, int LeaseExtensions, bool LeaseEndsSoon, long Version, string? HostName, Provisioning.OperationKind? Pending,
    ResourceState WantedState, DateTimeOffset? ConfirmedAt, string? Difference);

/// <summary>A row of the helpdesk wall: a resource of any tenant, with its tenant and its host's state.</summary>
public sealed record WallRow(ResourceSummary Resource, string TenantName, Hosts.HostState? HostState, DateTimeOffset? HostLastSeenAt);

/// <summary>Resources as their tenants' members (and staff) see them, and the whole estate for staff.</summary>
public sealed class ResourceQueries(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, IOptions<LeaseOptions> leases)
{
    [Requires(Permission.ResourceView, AccessTargetKind.Tenant)]
    public async Task<IReadOnlyList<ResourceSummary>> ListAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Tenant(tenantId), "list resources", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return [.. (await RowsAsync(db, db.Resources.Where(r => r.TenantId == tenantId), ct)).Select(r => r.Resource)];
    }

    /// <summary>Every VM and database of every tenant, for staff (the helpdesk wall), by tenant and name.</summary>
    [Requires(Permission.ResourceView)]
    public async Task<IReadOnlyList<WallRow>> ListAllAsync(Actor actor, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Portal, "list every tenant's resources", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await RowsAsync(db, db.Resources, ct);
    }

    /// <summary>
    /// A page of the live resources the actor may see, newest first: every tenant's for staff, their tenants'
    /// for members (the one tenant of a token limited to it), or one tenant's when <paramref name="tenantId"/> is set.
    /// </summary>
    [Requires(Permission.SignedIn)]
    public async Task<Page<WallRow>> PageAsync(Actor actor, Guid? tenantId, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        var limit = page.Checked;
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "list resources", ct);
        var scope = await access.ScopeAsync(actor, Permission.ResourceView, tenantId, "list resources", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Resources.Where(r => r.State != ResourceState.Deleted);
        if (!scope.All)
            query = query.Where(r => scope.TenantIds.Contains(r.TenantId));
        if (page.After is { } after)
            query = query.Where(r => r.Id.CompareTo(after) < 0);
        var rows = await RowsAsync(db, query.OrderByDescending(r => r.Id).Take(limit + 1), ct);
        return Paging.Of([.. rows.OrderByDescending(r => r.Resource.Id)], page, r => r.Resource.Id);
    }

    /// <summary>One resource as a wall row; unknown and forbidden ids are refused alike.</summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<WallRow> GetAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "view resource", ct);
        return await RowAfterAccessAsync(resourceId, ct);
    }

    /// <summary>One resource's row, for a caller in Core that has already asked the access service.</summary>
    internal async Task<WallRow> RowAfterAccessAsync(Guid resourceId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (await RowsAsync(db, db.Resources.Where(r => r.Id == resourceId), ct, includeDeleted: true)).Single();
    }

    private async Task<List<WallRow>> RowsAsync(PortalDbContext db, IQueryable<Resource> query, CancellationToken ct, bool includeDeleted = false)
    {
        var soon = time.GetUtcNow().AddDays(leases.Value.WarningDays);
        var rows = await query.AsNoTracking()
            .Where(r => includeDeleted || r.State != ResourceState.Deleted)
            .OrderBy(r => r.TenantId).ThenBy(r => r.Name).ToListAsync(ct);
        var ids = rows.Select(r => r.Id).ToList();
        var pending = await db.Operations.AsNoTracking()
            .Where(o => ids.Contains(o.ResourceId) && (o.State == Provisioning.OperationState.Pending || o.State == Provisioning.OperationState.Running))
            .Select(o => new { o.ResourceId, o.Kind, o.CreatedAt }).ToListAsync(ct);
        var hosts = await db.Hosts.AsNoTracking().ToDictionaryAsync(h => h.Id, h => new { h.Name, h.State, h.LastSeenAt }, ct);
        var tenantIds = rows.Select(r => r.TenantId).Distinct().ToList();
        var tenants = await db.Tenants.AsNoTracking().Where(t => tenantIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        return [.. rows.Select(r =>
        {
            var host = r.HostId is { } h ? hosts.GetValueOrDefault(h) : null;
            var next = pending.Where(p => p.ResourceId == r.Id).OrderBy(p => p.CreatedAt).Select(p => (Provisioning.OperationKind?)p.Kind).FirstOrDefault();
            var summary = new ResourceSummary(
                r.Id, r.TenantId, r.Name, r.Kind, ResourceLifecycle.Shown(r), r.VCpus, r.RamMiB, r.DiskGiB, r.LeaseEndsAt, r.LeaseExtensions,
                r.State == ResourceState.Expired || r.LeaseEndsAt <= soon, r.Version, host?.Name, next,
                r.State, r.ObservedAt,
                ResourceLifecycle.DifferenceNote(r.State, r.ObservedState, r.ObservedSince, r.ObservedAt, next is not null, host?.State != Hosts.HostState.Unreachable));
            return new WallRow(summary, tenants.GetValueOrDefault(r.TenantId) ?? "", host?.State, host?.LastSeenAt);
        }).OrderBy(r => r.TenantName, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Resource.Name, StringComparer.Ordinal)];
    }
}
