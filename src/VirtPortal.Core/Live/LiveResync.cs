using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Live;

/// <summary>The versions a reconnecting client holds, by entity id (a missing map is an empty one).</summary>
public sealed record LiveVersions(IReadOnlyDictionary<Guid, long>? Resources, IReadOnlyDictionary<Guid, long>? Requests);

/// <summary>
/// What changed since a client last heard: for each resource and request it names and may still see, a
/// change message when the stored version is higher than the one it holds. Entities it may not see (or that
/// do not exist: unknown and forbidden look the same) are left out. Deleted resources keep their row with a
/// higher version, so a client learns of a deletion by the change message and the re-read it causes.
/// </summary>
public sealed class LiveResync(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access)
{
    /// <summary>How many entities one resync may name; a screen holds far fewer.</summary>
    public const int MaxEntities = 1000;

    [Requires(Permission.SignedIn)]
    public async Task<IReadOnlyList<LiveMessage>> ChangesSinceAsync(Actor actor, LiveVersions held, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(held);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "resync live updates", ct);
        var resources = held.Resources ?? new Dictionary<Guid, long>();
        var requests = held.Requests ?? new Dictionary<Guid, long>();
        if (resources.Count + requests.Count > MaxEntities)
            throw new PortalValidationException($"A resync names at most {MaxEntities} entities.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resourceIds = resources.Keys.ToList();
        var requestIds = requests.Keys.ToList();
        var storedResources = resourceIds.Count == 0 ? [] : await db.Resources.AsNoTracking().Where(r => resourceIds.Contains(r.Id))
            .Select(r => new Stored(r.Id, r.TenantId, r.Version)).ToListAsync(ct);
        var storedRequests = requestIds.Count == 0 ? [] : await db.Requests.AsNoTracking().Where(r => requestIds.Contains(r.Id))
            .Select(r => new Stored(r.Id, r.TenantId, r.Version)).ToListAsync(ct);

        var changes = new List<LiveMessage>();
        // A resource's or request's facts are its tenant's (PortalAccess loads them so), so one question per
        // tenant decides for all of that tenant's entities.
        var resourceTenants = await VisibleTenantsAsync(actor, Permission.ResourceView, storedResources, ct);
        changes.AddRange(storedResources.Where(r => resourceTenants.Contains(r.TenantId) && r.Version > resources[r.Id])
            .Select(r => new ResourceChanged(r.TenantId, r.Id, r.Version)));
        var requestTenants = await VisibleTenantsAsync(actor, Permission.RequestView, storedRequests, ct);
        changes.AddRange(storedRequests.Where(r => requestTenants.Contains(r.TenantId) && r.Version > requests[r.Id])
            .Select(r => new RequestChanged(r.TenantId, r.Id, r.Version)));
        return changes;
    }

    private async Task<HashSet<Guid>> VisibleTenantsAsync(Actor actor, Permission permission, IEnumerable<Stored> stored, CancellationToken ct)
    {
        var visible = new HashSet<Guid>();
        foreach (var tenantId in stored.Select(s => s.TenantId).Distinct())
        {
            if (await access.AllowsAsync(actor, permission, AccessTarget.Tenant(tenantId), ct))
                visible.Add(tenantId);
        }

        return visible;
    }

    private sealed record Stored(Guid Id, Guid TenantId, long Version);
}
