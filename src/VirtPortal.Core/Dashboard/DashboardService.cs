using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Dashboard;

/// <summary>Portal-wide counts; only staff get them.</summary>
public sealed record PortalCounts(
    int ActiveTenants, int ArchivedTenants, int Users, int LockedUsers, int PendingInvites, int Memberships,
    IReadOnlyDictionary<string, int> UsersPerRole);

public sealed record HomeDashboard(
    string UserLabel, IReadOnlyList<TenantSummary> MyTenants, Guid? CurrentTenantId, PortalCounts? Portal, IReadOnlyList<AuditEntry> RecentActivity);

/// <summary>What each role's home page shows: the real figures that exist, nothing invented.</summary>
public sealed class DashboardService(IDbContextFactory<PortalDbContext> dbFactory, TenantService tenants, TimeProvider time)
{
    public async Task<HomeDashboard> GetAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var visible = await tenants.ListVisibleAsync(actor, includeArchived: false, ct);
        var mine = visible.Where(t => t.MyRole is not null).ToList();
        var me = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        var label = me?.Label ?? actor.Name;
        var current = me?.CurrentTenantId;
        if (current is null || mine.All(t => t.Id != current))
            current = mine.FirstOrDefault()?.Id;

        if (!actor.IsStaff)
        {
            var myTenantIds = mine.Select(t => t.Id).ToList();
            var ownedIds = mine.Where(t => t.MyRole == TenantRole.Owner).Select(t => (Guid?)t.Id).ToList();
            // Owners see their tenants' recent history; members see their own actions.
            var activity = await db.AuditEntries.AsNoTracking()
                .Where(e => ownedIds.Contains(e.TenantId) || e.ActorId == actor.UserId)
                .OrderByDescending(e => e.At).Take(10).ToListAsync(ct);
            return new HomeDashboard(label, mine, current, null, activity);
        }

        var now = time.GetUtcNow();
        var tenantCounts = await db.Tenants.GroupBy(t => t.ArchivedAt == null)
            .Select(g => new { Active = g.Key, Count = g.Count() }).ToListAsync(ct);
        var users = await db.Users.CountAsync(ct);
        var locked = await db.Users.CountAsync(u => u.LockoutEnd != null && u.LockoutEnd > now, ct);
        var invites = await db.Users.CountAsync(u => u.PasswordHash == null, ct);
        var memberships = await db.TenantMemberships.CountAsync(m => m.Tenant!.ArchivedAt == null, ct);
        var perRole = await (from ur in db.UserRoles
                             join r in db.Roles on ur.RoleId equals r.Id
                             group ur by r.Name into g
                             select new { Role = g.Key!, Count = g.Count() }).ToDictionaryAsync(g => g.Role, g => g.Count, ct);
        var counts = new PortalCounts(
            tenantCounts.Where(c => c.Active).Sum(c => c.Count),
            tenantCounts.Where(c => !c.Active).Sum(c => c.Count),
            users, locked, invites, memberships,
            GlobalRoles.All.ToDictionary(r => r, r => perRole.GetValueOrDefault(r)));
        var recent = await db.AuditEntries.AsNoTracking().OrderByDescending(e => e.At).Take(10).ToListAsync(ct);
        return new HomeDashboard(label, mine, current, counts, recent);
    }
}
