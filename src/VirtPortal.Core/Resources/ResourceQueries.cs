using VirtPortal.Core.Access;
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

/// <summary>A tenant's resources as its members (and staff) see them.</summary>
public sealed class ResourceQueries(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, IOptions<LeaseOptions> leases)
{
    [Requires(Permission.ResourceView, AccessTargetKind.Tenant)]
    public async Task<IReadOnlyList<ResourceSummary>> ListAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Tenant(tenantId), "list resources", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var soon = time.GetUtcNow().AddDays(leases.Value.WarningDays);
        var rows = await db.Resources.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.State != ResourceState.Deleted)
            .OrderBy(r => r.Name).ToListAsync(ct);
        var ids = rows.Select(r => r.Id).ToList();
        var pending = await db.Operations.AsNoTracking()
            .Where(o => ids.Contains(o.ResourceId) && (o.State == Provisioning.OperationState.Pending || o.State == Provisioning.OperationState.Running))
            .Select(o => new { o.ResourceId, o.Kind, o.CreatedAt }).ToListAsync(ct);
        var hosts = await db.Hosts.AsNoTracking().ToDictionaryAsync(h => h.Id, h => (h.Name, h.State), ct);
        return [.. rows.Select(r =>
        {
            var host = r.HostId is { } h && hosts.TryGetValue(h, out var found) ? found : default((string Name, Hosts.HostState State)?);
            var next = pending.Where(p => p.ResourceId == r.Id).OrderBy(p => p.CreatedAt).Select(p => (Provisioning.OperationKind?)p.Kind).FirstOrDefault();
            return Summarize(r, soon, host, next);
        })];
    }

    internal static ResourceSummary Summarize(Resource r, DateTimeOffset leaseSoon, (string Name, Hosts.HostState State)? host, Provisioning.OperationKind? pending) => new(
        r.Id, r.TenantId, r.Name, r.Kind, ResourceLifecycle.Shown(r), r.VCpus, r.RamMiB, r.DiskGiB, r.LeaseEndsAt, r.LeaseExtensions,
        r.State == ResourceState.Expired || r.LeaseEndsAt <= leaseSoon, r.Version, host?.Name, pending,
        r.State, r.ObservedAt,
        ResourceLifecycle.DifferenceNote(r.State, r.ObservedState, r.ObservedSince, r.ObservedAt, pending is not null, host?.State != Hosts.HostState.Unreachable));
}
