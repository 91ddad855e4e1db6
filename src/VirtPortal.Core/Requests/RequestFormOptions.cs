using VirtPortal.Core.Access;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

public sealed record TemplateOption(Guid Id, string Name, string OsLabel, string Description, int DefaultLeaseDays, IReadOnlyList<Guid> AllowedSizeIds);

public sealed record SizeOption(Guid Id, string Name, int VCpus, int RamMiB, int DiskGiB, decimal MonthlyPrice);

public sealed record OfferingOption(Guid Id, string Name, DatabaseEngineKind Engine, int StorageGiB, int ConnectionLimit, int DefaultLeaseDays, decimal MonthlyPrice);

public sealed record ResourceOption(Guid Id, string Name, ResourceKind Kind, Guid? SizeId, DateTimeOffset LeaseEndsAt, int LeaseExtensions, ResourceState State, int VCpus, int RamMiB, int DiskGiB);

/// <summary>What the request form offers for one tenant: the enabled catalog, its resources, the lease limit.</summary>
public sealed record RequestFormOptions(
    string TenantName, TenantQuota Quota, IReadOnlyList<TemplateOption> Templates, IReadOnlyList<SizeOption> Sizes,
    IReadOnlyList<OfferingOption> Offerings, IReadOnlyList<ResourceOption> Resources, int MaxLeaseDays);

public sealed class RequestFormOptionsQuery(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access)
{
    [Requires(Permission.TenantView, AccessTargetKind.Tenant)]
    public async Task<RequestFormOptions> GetAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.TenantView, AccessTarget.Tenant(tenantId), "open the request form", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.AsNoTracking().FirstAsync(t => t.Id == tenantId, ct);
        var templates = await db.VmTemplates.AsNoTracking().Include(t => t.AllowedSizes).Where(t => t.Enabled).OrderBy(t => t.Name).ToListAsync(ct);
        var sizes = await db.VmSizes.AsNoTracking().Where(s => s.Enabled).ToListAsync(ct);
        var offerings = await db.DatabaseOfferings.AsNoTracking().Where(o => o.Enabled).OrderBy(o => o.Name).ToListAsync(ct);
        var resources = await db.Resources.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.State != ResourceState.Deleted && r.State != ResourceState.Deleting && r.State != ResourceState.Failed)
            .OrderBy(r => r.Name).ToListAsync(ct);
        var policy = await TenantPolicies.LoadAsync(db, tenantId, ct);
        return new RequestFormOptions(
            tenant.Name,
            tenant.Quota,
            [.. templates.Select(t => new TemplateOption(t.Id, t.Name, t.OsLabel, t.Description, t.DefaultLeaseDays, [.. t.AllowedSizes.Select(s => s.Id)]))],
            [.. sizes.OrderBy(s => s.VCpus).ThenBy(s => s.RamMiB).Select(s => new SizeOption(s.Id, s.Name, s.VCpus, s.RamMiB, s.DiskGiB, Showback.Monthly(s.HourlyPrice)))],
            [.. offerings.Select(o => new OfferingOption(o.Id, o.Name, o.Engine, o.StorageGiB, o.ConnectionLimit, o.DefaultLeaseDays, Showback.Monthly(o.HourlyPrice)))],
            [.. resources.Select(r => new ResourceOption(r.Id, r.Name, r.Kind, r.SizeId, r.LeaseEndsAt, r.LeaseExtensions, r.State, r.VCpus, r.RamMiB, r.DiskGiB))],
            policy.MaxLeaseDays);
    }
}
