using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;
using VirtPortal.Core.Leases;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Resources;

public sealed record ResourceSummary(
    Guid Id, Guid TenantId, string Name, ResourceKind Kind, ResourceState State, int VCpus, int RamMiB, int DiskGiB,
    DateTimeOffset LeaseEndsAt, int LeaseExtensions, bool LeaseEndsSoon, long Version);

/// <summary>A tenant's resources as its members (and staff) see them.</summary>
public sealed class ResourceQueries(IDbContextFactory<PortalDbContext> dbFactory, TenantService tenants, TimeProvider time, IOptions<LeaseOptions> leases)
{
    public async Task<IReadOnlyList<ResourceSummary>> ListAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        // GetAsync refuses and audits anyone who may not see the tenant.
        await tenants.GetAsync(actor, tenantId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var soon = time.GetUtcNow().AddDays(leases.Value.WarningDays);
        var rows = await db.Resources.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.State != ResourceState.Deleted)
            .OrderBy(r => r.Name).ToListAsync(ct);
        return [.. rows.Select(r => new ResourceSummary(
            r.Id, r.TenantId, r.Name, r.Kind, r.State, r.VCpus, r.RamMiB, r.DiskGiB, r.LeaseEndsAt, r.LeaseExtensions,
            r.State == ResourceState.Expired || r.LeaseEndsAt <= soon, r.Version))];
    }
}
