using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Bootstrap;

/// <summary>The admin created on first run; <see cref="GeneratedPassword"/> is set only when the portal made it up.</summary>
public sealed record BootstrapResult(string? CreatedAdminEmail, string? GeneratedPassword);

/// <summary>
/// Start-up work that must finish before the portal serves anyone: schema migrations, global roles,
/// the first admin, and the demo data when demo mode is on. Safe to run on every start.
/// </summary>
public sealed partial class PortalInitializer(
    PortalDbContext db,
    UserManager<PortalUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<BootstrapOptions> bootstrap,
    IOptions<DemoOptions> demo,
    Hosts.HostService hosts,
    IOptions<Databases.DatabaseOptions> databases,
    Databases.DatabaseServerSecrets databaseSecrets,
    TimeProvider time,
    ILogger<PortalInitializer> logger)
{
    public async Task<BootstrapResult> InitializeAsync(CancellationToken ct = default)
    {
        await SqliteMigrationGuard.MigrateAsync(db, ct);
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);

        foreach (var role in GlobalRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
                Check(await roles.CreateAsync(new IdentityRole(role)), "role " + role);
        }

        var result = await EnsureAdminAsync(ct);
        if (demo.Value.IsEnabled)
            await SeedDemoAsync(ct);
        await hosts.EnsureHostsAsync(ct);
        // The local server first: it looks for a portal with no database server yet, which the embedded one ends.
        await Databases.DatabaseServerRegistration.EnsureLocalPostgresAsync(db, databaseSecrets, databases.Value, time, logger, ct);
        await Databases.DatabaseServerRegistration.EnsureEmbeddedAsync(db, time, ct);
        return result;
    }

    private async Task<BootstrapResult> EnsureAdminAsync(CancellationToken ct)
    {
        if ((await users.GetUsersInRoleAsync(GlobalRoles.Admin)).Count > 0)
            return new BootstrapResult(null, null);

        var options = bootstrap.Value;
        var generated = string.IsNullOrEmpty(options.AdminPassword) ? PasswordGenerator.Generate() : null;
        var password = options.AdminPassword is { Length: > 0 } configured ? configured : generated!;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var admin = await users.FindByEmailAsync(options.AdminEmail);
        if (admin is null)
        {
            admin = new PortalUser
            {
                UserName = options.AdminEmail,
                Email = options.AdminEmail,
                EmailConfirmed = true,
                DisplayName = "Administrator",
                CreatedAt = time.GetUtcNow(),
            };
            var created = await users.CreateAsync(admin, password);
            if (!created.Succeeded)
            {
                throw new OptionsValidationException(BootstrapOptions.Section, typeof(BootstrapOptions),
                    [$"Bootstrap:AdminPassword is not accepted: {string.Join(" ", created.Errors.Select(e => e.Description))}"]);
            }
        }
        else
        {
            // An account with that email exists but is not an admin (an admin was demoted or deleted):
            // promote it and reset its password, so that the operator who set the configuration can sign in.
            Check(await users.RemovePasswordAsync(admin), "admin password");
            Check(await users.AddPasswordAsync(admin, password), "admin password");
            Check(await users.SetLockoutEndDateAsync(admin, null), "admin lockout");
        }

        Check(await users.AddToRoleAsync(admin, GlobalRoles.Admin), "admin role");
        db.Record(time, Actor.System, AuditActions.AdminBootstrapped, $"user {admin.Email}", null,
            generated is null ? "password from configuration" : "password generated and written to the log once");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        LogAdminCreated(admin.Email!);
        return new BootstrapResult(admin.Email, generated);
    }

    private async Task SeedDemoAsync(CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var seededSomething = false;
        var tenants = new Dictionary<string, Tenant>();
        foreach (var name in DemoAccounts.Tenants)
        {
            var tenant = await db.Tenants.Include(t => t.Memberships).FirstOrDefaultAsync(t => t.Name == name, ct);
            if (tenant is null)
            {
                tenant = new Tenant
                {
                    Id = Guid.CreateVersion7(time.GetUtcNow()),
                    Name = name,
                    Description = $"Demo tenant {name}",
                    Quota = TenantQuota.Default,
                    CreatedAt = time.GetUtcNow(),
                };
                db.Tenants.Add(tenant);
                seededSomething = true;
            }

            tenants[name] = tenant;
        }

        foreach (var account in DemoAccounts.All)
        {
            var user = await users.FindByEmailAsync(account.Email);
            if (user is null)
            {
                user = new PortalUser
                {
                    UserName = account.Email,
                    Email = account.Email,
                    EmailConfirmed = true,
                    DisplayName = account.DisplayName,
                    CreatedAt = time.GetUtcNow(),
                    CurrentTenantId = account.Memberships.Length > 0 ? tenants[account.Memberships[0].Tenant].Id : null,
                };
                Check(await users.CreateAsync(user, demo.Value.Password), "demo user " + account.Email);
                if (account.GlobalRole is { } role)
                    Check(await users.AddToRoleAsync(user, role), "demo role " + role);
                foreach (var (tenantName, tenantRole) in account.Memberships)
                {
                    tenants[tenantName].Memberships.Add(new TenantMembership { UserId = user.Id, Role = tenantRole, AddedAt = time.GetUtcNow() });
                }

                seededSomething = true;
            }
        }

        seededSomething |= await DemoCatalog.SeedAsync(db, time, ct);
        if (seededSomething)
            db.Record(time, Actor.System, AuditActions.DemoSeeded, "demo data", null, "demo tenants and accounts");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException($"Could not set up {what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
    }

    [LoggerMessage(LogLevel.Information, "First run: created admin account {Email}")]
    private partial void LogAdminCreated(string email);
}
