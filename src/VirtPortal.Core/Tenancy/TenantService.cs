using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tenancy;

public sealed record TenantSummary(
    Guid Id, string Name, string Description, bool IsArchived, int MemberCount, TenantRole? MyRole, TenantQuota Quota);

public sealed record TenantMemberView(string UserId, string Email, string DisplayName, TenantRole Role, DateTimeOffset AddedAt);

public sealed record TenantDetails(TenantSummary Tenant, IReadOnlyList<TenantMemberView> Members, bool CanManageMembers, bool CanAdminister);

/// <summary>
/// Tenants and their members. Every method takes the acting user, checks <see cref="TenantAccess"/>
/// and writes its audit entry in the same SaveChanges as the change. One short-lived DbContext per
/// call, so a Blazor circuit can hold this service for hours.
/// </summary>
public sealed partial class TenantService(
    IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, ILogger<TenantService> logger)
{
    public async Task<IReadOnlyList<TenantSummary>> ListVisibleAsync(Actor actor, bool includeArchived, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Tenants.AsNoTracking();
        if (!actor.IsStaff)
            query = query.Where(t => t.ArchivedAt == null && t.Memberships.Any(m => m.UserId == actor.UserId));
        else if (!includeArchived)
            query = query.Where(t => t.ArchivedAt == null);

        var rows = await query
            .OrderBy(t => t.Name)
            .Select(t => new
            {
                t.Id, t.Name, t.Description, t.ArchivedAt, t.Quota,
                Members = t.Memberships.Count,
                MyRole = t.Memberships.Where(m => m.UserId == actor.UserId).Select(m => (TenantRole?)m.Role).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return [.. rows.Select(r => new TenantSummary(r.Id, r.Name, r.Description, r.ArchivedAt != null, r.Members, r.MyRole, r.Quota))];
    }

    public async Task<TenantDetails> GetAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.AsNoTracking().Include(t => t.Memberships).FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        var myRole = tenant?.Memberships.FirstOrDefault(m => m.UserId == actor.UserId)?.Role;
        if (tenant is null || !TenantAccess.Allows(actor, TenantPermission.View, myRole, tenant.IsArchived))
        {
            // Unknown and forbidden look the same to a non-staff caller, so tenant ids cannot be probed.
            await DenyAsync(db, actor, tenantId, "view tenant", ct);
        }

        var userIds = tenant!.Memberships.Select(m => m.UserId).ToList();
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, ct);
        var members = tenant.Memberships
            .Select(m => new TenantMemberView(m.UserId, users[m.UserId].Email ?? "", users[m.UserId].DisplayName, m.Role, m.AddedAt))
            .OrderByDescending(m => m.Role).ThenBy(m => m.Email, StringComparer.OrdinalIgnoreCase)
            .ToList();
        var summary = new TenantSummary(tenant.Id, tenant.Name, tenant.Description, tenant.IsArchived, members.Count, myRole, tenant.Quota);
        return new TenantDetails(
            summary,
            members,
            TenantAccess.Allows(actor, TenantPermission.ManageMembers, myRole, tenant.IsArchived),
            TenantAccess.Allows(actor, TenantPermission.Administer, myRole, tenant.IsArchived));
    }

    /// <summary>Whether <paramref name="actor"/> has <paramref name="permission"/> on the tenant (false for unknown tenants).</summary>
    public async Task<bool> IsAllowedAsync(Actor actor, Guid tenantId, TenantPermission permission, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId)
            .Select(t => new
            {
                t.ArchivedAt,
                Role = t.Memberships.Where(m => m.UserId == actor.UserId).Select(m => (TenantRole?)m.Role).FirstOrDefault(),
            })
            .FirstOrDefaultAsync(ct);
        return tenant is not null && TenantAccess.Allows(actor, permission, tenant.Role, tenant.ArchivedAt != null);
    }

    public async Task<Guid> CreateAsync(Actor actor, string name, string? description, TenantQuota quota, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!actor.IsAdmin)
            await DenyAsync(db, actor, null, "create tenant", ct);
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
        db.Record(time, actor, AuditActions.TenantCreated, $"tenant {trimmed}", tenant.Id, Describe(quota));
        await SaveUniqueAsync(db, ct);
        LogTenantCreated(tenant.Id, trimmed, actor.Name);
        return tenant.Id;
    }

    public async Task UpdateAsync(Actor actor, Guid tenantId, string name, string? description, TenantQuota quota, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await FindForAdminAsync(db, actor, tenantId, "edit tenant", ct);
        TenantRules.Validate(name, description, quota);
        var trimmed = name.Trim();
        await EnsureNameFreeAsync(db, trimmed, tenantId, ct);

        if (!string.Equals(tenant.Name, trimmed, StringComparison.Ordinal))
        {
            db.Record(time, actor, AuditActions.TenantRenamed, $"tenant {trimmed}", tenant.Id, $"from \"{tenant.Name}\" to \"{trimmed}\"");
            tenant.Name = trimmed;
        }

        tenant.Description = description?.Trim() ?? "";
        if (tenant.Quota != quota)
        {
            db.Record(time, actor, AuditActions.QuotaChanged, $"tenant {trimmed}", tenant.Id, $"from {Describe(tenant.Quota)} to {Describe(quota)}");
            tenant.Quota = quota;
        }

        await SaveUniqueAsync(db, ct);
    }

    public async Task SetArchivedAsync(Actor actor, Guid tenantId, bool archived, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await FindForAdminAsync(db, actor, tenantId, archived ? "archive tenant" : "restore tenant", ct);
        if (tenant.IsArchived == archived)
            throw new PortalValidationException(archived ? "The tenant is already archived." : "The tenant is not archived.");
        tenant.ArchivedAt = archived ? time.GetUtcNow() : null;
        db.Record(time, actor, archived ? AuditActions.TenantArchived : AuditActions.TenantRestored, $"tenant {tenant.Name}", tenant.Id);
        await db.SaveChangesAsync(ct);
    }

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
    public async Task SwitchCurrentTenantAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!await IsAllowedAsync(actor, tenantId, TenantPermission.View, ct))
        {
            await using var denied = await dbFactory.CreateDbContextAsync(ct);
            await DenyAsync(denied, actor, tenantId, "switch to tenant", ct);
        }

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

    private async Task<Tenant> FindForAdminAsync(PortalDbContext db, Actor actor, Guid tenantId, string what, CancellationToken ct)
    {
        if (!actor.IsAdmin)
            await DenyAsync(db, actor, tenantId, what, ct);
        return await db.Tenants.FirstOrDefaultAsync(t => t.Id == tenantId, ct)
            ?? throw new PortalNotFoundException("That tenant does not exist.");
    }

    private async Task<Tenant> FindForMemberManagementAsync(PortalDbContext db, Actor actor, Guid tenantId, CancellationToken ct)
    {
        var tenant = await db.Tenants.Include(t => t.Memberships).FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        var myRole = tenant?.Memberships.FirstOrDefault(m => m.UserId == actor.UserId)?.Role;
        if (tenant is null || !TenantAccess.Allows(actor, TenantPermission.ManageMembers, myRole, tenant.IsArchived))
            await DenyAsync(db, actor, tenantId, "manage members", ct);
        return tenant!;
    }

    private static async Task EnsureNameFreeAsync(PortalDbContext db, string name, Guid? except, CancellationToken ct)
    {
        // The column is NOCASE, so this comparison ignores case just like the unique index.
        if (await db.Tenants.AnyAsync(t => t.Name == name && t.Id != except, ct))
            throw new PortalValidationException("Name", $"A tenant named \"{name}\" already exists.");
    }

    private static async Task SaveUniqueAsync(PortalDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException?.Message.Contains("UNIQUE", StringComparison.OrdinalIgnoreCase) == true)
        {
            // Another admin took the name between our check and our write.
            throw new PortalValidationException("Name", "A tenant with that name already exists.");
        }
    }

    private static async Task<string> EmailOfAsync(PortalDbContext db, string userId, CancellationToken ct) =>
        await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct) ?? userId;

    private async Task DenyAsync(PortalDbContext db, Actor actor, Guid? tenantId, string what, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.Record(time, actor, AuditActions.AccessDenied, tenantId is null ? "tenants" : $"tenant {tenantId}", null, what);
        await db.SaveChangesAsync(ct);
        LogDenied(actor.Name, what, tenantId);
        throw new PortalAccessDeniedException();
    }

    internal static string Describe(TenantQuota q) =>
        $"{q.VCpus} vCPU, {q.RamMiB} MiB RAM, {q.DiskGiB} GiB disk, {q.Vms} VMs, {q.Databases} databases";

    [LoggerMessage(LogLevel.Information, "Tenant {TenantId} \"{Name}\" created by {Actor}")]
    private partial void LogTenantCreated(Guid tenantId, string name, string actor);

    [LoggerMessage(LogLevel.Warning, "Denied {Actor}: {What} (tenant {TenantId})")]
    private partial void LogDenied(string actor, string what, Guid? tenantId);
}
