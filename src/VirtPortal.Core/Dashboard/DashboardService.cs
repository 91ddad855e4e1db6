using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Dashboard;

/// <summary>Portal-wide counts; only those who see every tenant get them.</summary>
public sealed record PortalCounts(
    int ActiveTenants, int ArchivedTenants, int Users, int LockedUsers, int PendingInvites, int Memberships,
    IReadOnlyDictionary<string, int> UsersPerRole);

public sealed record HomeDashboard(
    string UserLabel, IReadOnlyList<TenantSummary> MyTenants, Guid? CurrentTenantId, PortalCounts? Portal, IReadOnlyList<AuditEntry> RecentActivity);

/// <summary>
/// What each role's home page shows: the real figures that exist, nothing invented. The recent activity
/// is the audit log's own newest entries for the actor, so the home page never shows what the log would refuse.
/// </summary>
public sealed class DashboardService(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TenantService tenants, AuditQueries audit, TimeProvider time)
{
    [Requires(Permission.SignedIn)]
    public async Task<HomeDashboard> GetAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "view home page", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var visible = await tenants.ListVisibleAsync(actor, includeArchived: false, ct);
        var mine = visible.Where(t => t.MyRole is not null).ToList();
        var me = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == actor.UserId, ct);
        var label = me?.Label ?? actor.Name;
        var current = me?.CurrentTenantId;
        if (current is null || mine.All(t => t.Id != current))
            current = mine.FirstOrDefault()?.Id;

        var recent = await audit.RecentAsync(actor, 10, ct);
        if (!await access.AllowsAsync(actor, Permission.TenantView, AccessTarget.Portal, ct))
            return new HomeDashboard(label, mine, current, null, recent);

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
        return new HomeDashboard(label, mine, current, counts, recent);
    }
}
