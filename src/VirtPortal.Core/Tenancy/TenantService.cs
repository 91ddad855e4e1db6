using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tenancy;

public sealed record TenantSummary(
    Guid Id, string Name, string Description, bool IsArchived, int MemberCount, TenantRole? MyRole, TenantQuota Quota, long Version);

public sealed record TenantMemberView(string UserId, string Email, string DisplayName, TenantRole Role, DateTimeOffset AddedAt);

public sealed record TenantDetails(TenantSummary Tenant, IReadOnlyList<TenantMemberView> Members, bool CanManageMembers, bool CanAdminister);

/// <summary>
/// Tenants and their members. Every method takes the acting user, asks <see cref="PortalAccess"/>
/// first and writes its audit entry in the same SaveChanges as the change. One short-lived DbContext per
/// call, so a Blazor circuit can hold this service for hours.
/// </summary>
public sealed partial class TenantService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, ILogger<TenantService> logger)
{
    /// <summary>The tenants the actor may view: all of them for staff, their active tenants for members (the one tenant of a token limited to it).</summary>
    [Requires(Permission.SignedIn)]
    public async Task<IReadOnlyList<TenantSummary>> ListVisibleAsync(Actor actor, bool includeArchived, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "list tenants", ct);
        var scope = await access.ScopeAsync(actor, Permission.TenantView, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Tenants.AsNoTracking();
        if (!scope.All)
            query = query.Where(t => scope.TenantIds.Contains(t.Id));
        else if (!includeArchived)
            query = query.Where(t => t.ArchivedAt == null);

        var rows = await query
            .OrderBy(t => t.Name)
            .Select(t => new
            {
                t.Id, t.Name, t.Description, t.ArchivedAt, t.Quota, t.Version,
                Members = t.Memberships.Count,
                MyRole = t.Memberships.Where(m => m.UserId == actor.UserId).Select(m => (TenantRole?)m.Role).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return [.. rows.Select(r => new TenantSummary(r.Id, r.Name, r.Description, r.ArchivedAt != null, r.Members, r.MyRole, r.Quota, r.Version))];
    }

    [Requires(Permission.TenantView, AccessTargetKind.Tenant)]
    public async Task<TenantDetails> GetAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var grant = await access.RequireAsync(actor, Permission.TenantView, AccessTarget.Tenant(tenantId), "view tenant", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.AsNoTracking().Include(t => t.Memberships).FirstAsync(t => t.Id == tenantId, ct);
        var myRole = grant.Membership;
        var userIds = tenant.Memberships.Select(m => m.UserId).ToList();
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, ct);
        var members = tenant.Memberships
            .Select(m => new TenantMemberView(m.UserId, users[m.UserId].Email ?? "", users[m.UserId].DisplayName, m.Role, m.AddedAt))
            .OrderByDescending(m => m.Role).ThenBy(m => m.Email, StringComparer.OrdinalIgnoreCase)
            .ToList();
        var summary = new TenantSummary(tenant.Id, tenant.Name, tenant.Description, tenant.IsArchived, members.Count, myRole, tenant.Quota, tenant.Version);
        return new TenantDetails(
            summary,
            members,
            AccessRules.Allows(actor, Permission.TenantManageMembers, grant.Facts),
            AccessRules.Allows(actor, Permission.TenantAdminister, grant.Facts));
    }

    [Requires(Permission.TenantAdminister)]
    public async Task<Guid> CreateAsync(Actor actor, string name, string? description, TenantQuota quota, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.TenantAdminister, AccessTarget.Portal, "create tenant", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        TenantRules.Validate(name, description, quota);
        var trimmed = name.Trim();
        await EnsureNameFreeAsync(db, trimmed, null, ct);

        var tenant = new Tenant
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            Name = trimmed,
            Description = description?.Trim() ?? "",
            Quota = quota,
            CreatedAt = time.GetUtcNow(),
        };
        db.Tenants.Add(tenant);
        db.Record(time, actor, AuditActions.TenantCreated, $"tenant {trimmed}", tenant.Id, TenantQuotas.Describe(quota));
        await db.SaveUniqueAsync("Name", "A tenant with that name already exists.", ct);
        LogTenantCreated(tenant.Id, trimmed, actor.Name);
        return tenant.Id;
    }

    [Requires(Permission.TenantAdminister, AccessTargetKind.Tenant)]
    public Task UpdateAsync(Actor actor, Guid tenantId, string name, string? description, TenantQuota quota, CancellationToken ct = default) =>
        UpdateAsync(actor, tenantId, name, description, quota, expectedVersion: null, ct);

    /// <summary>The same, only while the tenant is at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.TenantAdminister, AccessTargetKind.Tenant)]
    public async Task UpdateAsync(Actor actor, Guid tenantId, string name, string? description, TenantQuota quota, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.TenantAdminister, AccessTarget.Tenant(tenantId), "edit tenant", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.FirstAsync(t => t.Id == tenantId, ct);
        TenantRules.RequireVersion(tenant, expectedVersion);
        TenantRules.Validate(name, description, quota);
        var trimmed = name.Trim();
        await EnsureNameFreeAsync(db, trimmed, tenantId, ct);

        if (!string.Equals(tenant.Name, trimmed, StringComparison.Ordinal))
        {
            db.Record(time, actor, AuditActions.TenantRenamed, $"tenant {trimmed}", tenant.Id, $"from \"{tenant.Name}\" to \"{trimmed}\"");
            tenant.Name = trimmed;
        }

        tenant.Description = description?.Trim() ?? "";
        TenantQuotas.Change(db, time, actor, tenant, quota);
        tenant.Version++;

        await TenantRules.SaveVersionedAsync(() => db.SaveUniqueAsync("Name", "A tenant with that name already exists.", ct));
    }

    [Requires(Permission.TenantAdminister, AccessTargetKind.Tenant)]
    public Task SetArchivedAsync(Actor actor, Guid tenantId, bool archived, CancellationToken ct = default) =>
        SetArchivedAsync(actor, tenantId, archived, expectedVersion: null, ct);

    /// <summary>The same, only while the tenant is at <paramref name="expectedVersion"/> when one is given.</summary>
    [Requires(Permission.TenantAdminister, AccessTargetKind.Tenant)]
    public async Task SetArchivedAsync(Actor actor, Guid tenantId, bool archived, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.TenantAdminister, AccessTarget.Tenant(tenantId), archived ? "archive tenant" : "restore tenant", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.FirstAsync(t => t.Id == tenantId, ct);
        TenantRules.RequireVersion(tenant, expectedVersion);
        if (tenant.IsArchived == archived)
            throw new PortalValidationException(archived ? "The tenant is already archived." : "The tenant is not archived.");
        tenant.ArchivedAt = archived ? time.GetUtcNow() : null;
        tenant.Version++;
        db.Record(time, actor, archived ? AuditActions.TenantArchived : AuditActions.TenantRestored, $"tenant {tenant.Name}", tenant.Id);
        await TenantRules.SaveVersionedAsync(() => db.SaveChangesAsync(ct));
    }

    [Requires(Permission.TenantManageMembers, AccessTargetKind.Tenant)]
    public async Task AddMemberAsync(Actor actor, Guid tenantId, string email, TenantRole role, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await FindForMemberManagementAsync(db, actor, tenantId, ct);
        var normalized = (email ?? "").Trim().ToUpperInvariant();
        if (normalized.Length == 0)
            throw new PortalValidationException("Email", "Enter the email of the user to add.");
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct)
            ?? throw new PortalValidationException("Email", $"No user has the email {email!.Trim()}. An admin can create the account first.");
        if (tenant.Memberships.Any(m => m.UserId == user.Id))
            throw new PortalValidationException("Email", $"{user.Email} is already a member of {tenant.Name}.");

        tenant.Memberships.Add(new TenantMembership { UserId = user.Id, Role = role, AddedAt = time.GetUtcNow() });
        user.CurrentTenantId ??= tenant.Id;
        db.Record(time, actor, AuditActions.MemberAdded, $"user {user.Email}", tenant.Id, $"as {role} of {tenant.Name}");
        await db.SaveChangesAsync(ct);
    }

    [Requires(Permission.TenantManageMembers, AccessTargetKind.Tenant)]
    public async Task ChangeMemberRoleAsync(Actor actor, Guid tenantId, string userId, TenantRole role, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await FindForMemberManagementAsync(db, actor, tenantId, ct);
        var membership = tenant.Memberships.FirstOrDefault(m => m.UserId == userId)
            ?? throw new PortalNotFoundException("That user is not a member of this tenant.");
        if (membership.Role == role)
            return;
        if (role != TenantRole.Owner)
            EnsureNotLastOwnerLeaving(actor, tenant, membership);
        var email = await EmailOfAsync(db, userId, ct);
        db.Record(time, actor, AuditActions.MemberRoleChanged, $"user {email}", tenant.Id, $"from {membership.Role} to {role} in {tenant.Name}");
        membership.Role = role;
        await db.SaveChangesAsync(ct);
    }

    [Requires(Permission.TenantManageMembers, AccessTargetKind.Tenant)]
    public async Task RemoveMemberAsync(Actor actor, Guid tenantId, string userId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await FindForMemberManagementAsync(db, actor, tenantId, ct);
        var membership = tenant.Memberships.FirstOrDefault(m => m.UserId == userId)
            ?? throw new PortalNotFoundException("That user is not a member of this tenant.");
        EnsureNotLastOwnerLeaving(actor, tenant, membership);
        var user = await db.Users.FirstAsync(u => u.Id == userId, ct);
        if (user.CurrentTenantId == tenantId)
            user.CurrentTenantId = null;
        tenant.Memberships.Remove(membership);
        db.Record(time, actor, AuditActions.MemberRemoved, $"user {user.Email}", tenant.Id, $"was {membership.Role} of {tenant.Name}");
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Remembers the tenant the user switched to, if they may see it.</summary>
    [Requires(Permission.TenantView, AccessTargetKind.Tenant)]
    public async Task SwitchCurrentTenantAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.TenantView, AccessTarget.Tenant(tenantId), "switch to tenant", ct);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Users.Where(u => u.Id == actor.UserId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.CurrentTenantId, tenantId), ct);
    }

    // An owner must not lock everyone (including themselves) out of member management by accident;
    // an admin can always repair a tenant, so the rule binds owners only.
    private static void EnsureNotLastOwnerLeaving(Actor actor, Tenant tenant, TenantMembership leaving)
    {
        if (actor.IsAdmin || leaving.Role != TenantRole.Owner)
            return;
        if (tenant.Memberships.Count(m => m.Role == TenantRole.Owner) == 1)
            throw new PortalValidationException("", $"{tenant.Name} must keep at least one owner. Make another member an owner first.");
    }

    private async Task<Tenant> FindForMemberManagementAsync(PortalDbContext db, Actor actor, Guid tenantId, CancellationToken ct)
    {
        await access.RequireAsync(actor, Permission.TenantManageMembers, AccessTarget.Tenant(tenantId), "manage members", ct);
        return await db.Tenants.Include(t => t.Memberships).FirstAsync(t => t.Id == tenantId, ct);
    }

    private static async Task EnsureNameFreeAsync(PortalDbContext db, string name, Guid? except, CancellationToken ct)
    {
        // The column is NOCASE, so this comparison ignores case just like the unique index.
        if (await db.Tenants.AnyAsync(t => t.Name == name && t.Id != except, ct))
            throw new PortalValidationException("Name", $"A tenant named \"{name}\" already exists.");
    }

    private static async Task<string> EmailOfAsync(PortalDbContext db, string userId, CancellationToken ct) =>
        await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct) ?? userId;

    [LoggerMessage(LogLevel.Information, "Tenant {TenantId} \"{Name}\" created by {Actor}")]
    private partial void LogTenantCreated(Guid tenantId, string name, string actor);
}
