using VirtPortal.Core.Access;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Users;

public sealed record UserSummary(
    string Id, string Email, string DisplayName, IReadOnlyList<string> Roles, bool IsLocked, bool HasPassword,
    int TenantCount, DateTimeOffset CreatedAt);

public sealed record UserMembershipView(Guid TenantId, string TenantName, TenantRole Role, bool TenantArchived);

public sealed record UserDetails(UserSummary User, IReadOnlyList<UserMembershipView> Memberships);

/// <summary>What an admin fills in to create an account.</summary>
public sealed record NewUser(
    string Email, string DisplayName, IReadOnlyCollection<string> Roles,
    Guid? TenantId = null, TenantRole TenantRole = TenantRole.Member, string? Password = null);

/// <summary>
/// The created user's id and, when no password was given, the one-time set-password token to
/// build the invite link from (shown once to the admin; mailed when SMTP is configured).
/// </summary>
public sealed record CreatedUser(string UserId, string? InviteToken);

/// <summary>
/// Account administration for admins. <see cref="UserManager{TUser}"/> is bound to a scoped DbContext,
/// and a Blazor circuit lives for hours; so every operation here runs in a scope of its own, inside one
/// transaction that also holds its audit entry.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, PortalAccess access, TimeProvider time)
{
    public const int DisplayNameMaxLength = 100;

    [Requires(Permission.UsersManage)]
    public async Task<IReadOnlyList<UserSummary>> ListAsync(Actor actor, string? search, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await access.RequireAsync(db, actor, Permission.UsersManage, AccessTarget.Portal, "list users", ct);
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var term = search.Trim();
            query = query.Where(u => EF.Functions.Like(u.Email!, $"%{term}%") || EF.Functions.Like(u.DisplayName, $"%{term}%"));
        }

        var users = await query.OrderBy(u => u.Email).Take(500).ToListAsync(ct);
        return await SummariesAsync(db, users, ct);
    }

    [Requires(Permission.UsersManage)]
    public async Task<UserDetails> GetAsync(Actor actor, string userId, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await access.RequireAsync(db, actor, Permission.UsersManage, AccessTarget.Portal, "view user", ct);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct)
            ?? throw new PortalNotFoundException("That user does not exist.");
        var memberships = await db.TenantMemberships.AsNoTracking()
            .Where(m => m.UserId == userId)
            .OrderBy(m => m.Tenant!.Name)
            .Select(m => new UserMembershipView(m.TenantId, m.Tenant!.Name, m.Role, m.Tenant.ArchivedAt != null))
            .ToListAsync(ct);
        return new UserDetails((await SummariesAsync(db, [user], ct))[0], memberships);
    }

    [Requires(Permission.UsersManage)]
    public async Task<CreatedUser> CreateAsync(Actor actor, NewUser input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        await access.RequireAsync(db, actor, Permission.UsersManage, AccessTarget.Portal, "create user", ct);

        var errors = new Dictionary<string, string[]>();
        var email = input.Email?.Trim() ?? "";
        if (email.Length == 0)
            errors[nameof(NewUser.Email)] = ["Enter an email address."];
        else if (!new EmailAddressAttribute().IsValid(email) || email.Length > 256)
            errors[nameof(NewUser.Email)] = [$"\"{email}\" is not a valid email address."];
        else if (await users.FindByEmailAsync(email) is not null)
            errors[nameof(NewUser.Email)] = [$"A user with the email {email} already exists."];
        var displayName = input.DisplayName?.Trim() ?? "";
        if (displayName.Length > DisplayNameMaxLength)
            errors[nameof(NewUser.DisplayName)] = [$"A display name has at most {DisplayNameMaxLength} characters."];
        if (input.Roles.FirstOrDefault(r => !GlobalRoles.IsKnown(r)) is { } unknownRole)
            errors[nameof(NewUser.Roles)] = [$"\"{unknownRole}\" is not a role. Roles are {string.Join(", ", GlobalRoles.All)}."];
        Tenant? tenant = null;
        if (input.TenantId is { } tenantId)
        {
            tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == tenantId, ct);
            if (tenant is null || tenant.IsArchived)
                errors[nameof(NewUser.TenantId)] = ["Choose an active tenant."];
        }

        if (input.Password is not null)
        {
            foreach (var validator in users.PasswordValidators)
            {
                var result = await validator.ValidateAsync(users, new PortalUser(), input.Password);
                if (!result.Succeeded)
                    errors[nameof(NewUser.Password)] = [.. result.Errors.Select(e => e.Description)];
            }
        }

        if (errors.Count > 0)
            throw new PortalValidationException(errors);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var user = new PortalUser
        {
            UserName = email,
            Email = email,
            DisplayName = displayName,
            CreatedAt = time.GetUtcNow(),
            CurrentTenantId = tenant?.Id,
            // The admin vouches for the address; invites prove it when the link is used.
            EmailConfirmed = true,
        };
        Check(input.Password is null ? await users.CreateAsync(user) : await users.CreateAsync(user, input.Password));
        foreach (var role in input.Roles.Distinct(StringComparer.Ordinal))
            Check(await users.AddToRoleAsync(user, role));
        if (tenant is not null)
            db.TenantMemberships.Add(new TenantMembership { TenantId = tenant.Id, UserId = user.Id, Role = input.TenantRole, AddedAt = time.GetUtcNow() });

        string? token = null;
        var details = input.Roles.Count == 0 ? "no global roles" : "roles " + string.Join(", ", input.Roles);
        if (tenant is not null)
            details += $"; {input.TenantRole} of {tenant.Name}";
        db.Record(time, actor, AuditActions.UserCreated, $"user {email}", tenant?.Id, details);
        if (input.Password is null)
        {
            token = await users.GeneratePasswordResetTokenAsync(user);
            db.Record(time, actor, AuditActions.UserInviteIssued, $"user {email}", tenant?.Id);
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new CreatedUser(user.Id, token);
    }

    /// <summary>
    /// A fresh one-time set-password token. Issuing one changes nothing else; using it (or any password
    /// change) changes the security stamp and so voids every earlier token.
    /// </summary>
    [Requires(Permission.UsersManage)]
    public async Task<string> IssueInviteAsync(Actor actor, string userId, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        await access.RequireAsync(db, actor, Permission.UsersManage, AccessTarget.Portal, "issue invite", ct);
        var user = await users.FindByIdAsync(userId) ?? throw new PortalNotFoundException("That user does not exist.");
        var token = await users.GeneratePasswordResetTokenAsync(user);
        db.Record(time, actor, AuditActions.UserInviteIssued, $"user {user.Email}");
        await db.SaveChangesAsync(ct);
        return token;
    }

    /// <summary>Sets the password from an invite or reset link. Returns the errors to show, or none.</summary>
    public async Task<IReadOnlyList<string>> CompleteInviteAsync(string userId, string token, string password, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByIdAsync(userId);
        if (user is null)
            return ["This link is not valid. Ask an admin for a new one."];
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var result = await users.ResetPasswordAsync(user, token, password);
        if (!result.Succeeded)
        {
            return [.. result.Errors.Select(e => e.Code == nameof(IdentityErrorDescriber.InvalidToken)
                ? "This link has expired or was already used. Ask an admin for a new one."
                : e.Description)];
        }

        db.Record(time, new Actor(user.Id, user.Email ?? user.Id, new HashSet<string>()), AuditActions.UserPasswordSet, $"user {user.Email}");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return [];
    }

    [Requires(Permission.UsersManage)]
    public async Task SetRolesAsync(Actor actor, string userId, IReadOnlyCollection<string> roles, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(roles);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        await access.RequireAsync(db, actor, Permission.UsersManage, AccessTarget.Portal, "change roles", ct);
        if (roles.FirstOrDefault(r => !GlobalRoles.IsKnown(r)) is { } unknown)
            throw new PortalValidationException("Roles", $"\"{unknown}\" is not a role.");
        var user = await users.FindByIdAsync(userId) ?? throw new PortalNotFoundException("That user does not exist.");
        var current = await users.GetRolesAsync(user);
        var toAdd = roles.Except(current).Distinct().ToList();
        var toRemove = current.Except(roles).ToList();
        if (toAdd.Count == 0 && toRemove.Count == 0)
            return;
        if (toRemove.Contains(GlobalRoles.Admin))
        {
            if (user.Id == actor.UserId)
                throw new PortalValidationException("Roles", "You cannot remove your own Admin role; ask another admin.");
            await EnsureAnotherActiveAdminAsync(users, user, ct);
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (toRemove.Count > 0)
            Check(await users.RemoveFromRolesAsync(user, toRemove));
        if (toAdd.Count > 0)
            Check(await users.AddToRolesAsync(user, toAdd));
        // Identity does not change the stamp on role changes; a new one makes the user's open sessions
        // re-check their roles at the next revalidation.
        Check(await users.UpdateSecurityStampAsync(user));
        db.Record(time, actor, AuditActions.UserRolesChanged, $"user {user.Email}", null,
            $"from [{string.Join(", ", current.Order())}] to [{string.Join(", ", roles.Order())}]");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Locks (indefinitely) or unlocks an account. Locking ends the user's open sessions.</summary>
    [Requires(Permission.UsersManage)]
    public async Task SetLockedAsync(Actor actor, string userId, bool locked, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        await access.RequireAsync(db, actor, Permission.UsersManage, AccessTarget.Portal, locked ? "lock user" : "unlock user", ct);
        var user = await users.FindByIdAsync(userId) ?? throw new PortalNotFoundException("That user does not exist.");
        if (locked && user.Id == actor.UserId)
            throw new PortalValidationException("", "You cannot lock your own account.");
        if (locked && await users.IsInRoleAsync(user, GlobalRoles.Admin))
            await EnsureAnotherActiveAdminAsync(users, user, ct);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        Check(await users.SetLockoutEnabledAsync(user, true));
        Check(await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null));
        if (!locked)
            Check(await users.ResetAccessFailedCountAsync(user));
        else
            Check(await users.UpdateSecurityStampAsync(user));
        db.Record(time, actor, locked ? AuditActions.UserLocked : AuditActions.UserUnlocked, $"user {user.Email}");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private async Task EnsureAnotherActiveAdminAsync(UserManager<PortalUser> users, PortalUser leaving, CancellationToken ct)
    {
        var admins = await users.GetUsersInRoleAsync(GlobalRoles.Admin);
        ct.ThrowIfCancellationRequested();
        if (!admins.Any(a => a.Id != leaving.Id && (a.LockoutEnd is null || a.LockoutEnd <= time.GetUtcNow())))
            throw new PortalValidationException("", "The portal must keep at least one active admin.");
    }

    private async Task<List<UserSummary>> SummariesAsync(PortalDbContext db, List<PortalUser> users, CancellationToken ct)
    {
        var ids = users.Select(u => u.Id).ToList();
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           where ids.Contains(ur.UserId)
                           select new { ur.UserId, r.Name }).ToListAsync(ct);
        var tenantCounts = await db.TenantMemberships.Where(m => ids.Contains(m.UserId))
            .GroupBy(m => m.UserId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var now = time.GetUtcNow();
        return [.. users.Select(u => new UserSummary(
            u.Id, u.Email ?? "", u.DisplayName,
            [.. roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order()],
            u.LockoutEnd is { } end && end > now,
            u.PasswordHash is not null,
            tenantCounts.GetValueOrDefault(u.Id),
            u.CreatedAt))];
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
            throw new PortalValidationException("", string.Join(" ", result.Errors.Select(e => e.Description)));
    }
}
