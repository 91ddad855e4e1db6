using System.Buffers.Binary;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Bootstrap;

public sealed class PortalInitializerTests
{
    private static readonly Dictionary<string, string?> NoConfiguredPassword = new() { ["Bootstrap:AdminPassword"] = null };
    private static readonly Dictionary<string, string?> DemoOn = new() { ["Demo:Enabled"] = "true" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_start_after_a_process_was_killed_while_migrating_removes_its_stale_lock_and_completes()
    {
        await using var host = await PortalTestHost.StartAsync();
        // What a portal SIGKILLed inside MigrateAsync leaves: EF Core's lock row, which only its holder deletes.
        await using (var db = host.NewDb())
            await db.Database.ExecuteSqlRawAsync("INSERT INTO \"__EFMigrationsLock\" (\"Id\", \"Timestamp\") VALUES (1, '2026-12-01 00:00:00');", Ct);

        await host.InitializeAsync().WaitAsync(TimeSpan.FromSeconds(60), Ct);

        await using var check = host.NewDb();
        Assert.Equal(0, await check.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM \"__EFMigrationsLock\"").SingleAsync(Ct));
    }

    [Fact]
    public async Task First_start_creates_one_admin_who_signs_in_with_the_configured_password()
    {
        await using var host = await PortalTestHost.StartAsync(initialize: false);

        var result = await host.InitializeAsync();

        var admin = Assert.Single(await AdminsAsync(host));
        Assert.Equal((PortalTestHost.AdminEmail, PortalTestHost.AdminEmail, (string?)null), (admin.Email, result.CreatedAdminEmail, result.GeneratedPassword));
        Assert.True(await host.WithUserManagerAsync(users => users.CheckPasswordAsync(admin, PortalTestHost.AdminPassword)));
    }

    [Fact]
    public async Task Without_a_configured_password_a_generated_one_is_returned_and_signs_in()
    {
        await using var host = await PortalTestHost.StartAsync(NoConfiguredPassword, initialize: false);

        var result = await host.InitializeAsync();

        var password = Assert.IsType<string>(result.GeneratedPassword);
        Assert.True(password.Length >= 12, $"Generated password has {password.Length} characters.");
        var admin = Assert.Single(await AdminsAsync(host));
        Assert.True(await host.WithUserManagerAsync(users => users.CheckPasswordAsync(admin, password)));
    }

    [Fact]
    public async Task Second_start_creates_no_second_admin_and_returns_no_password()
    {
        await using var host = await PortalTestHost.StartAsync(NoConfiguredPassword);

        var result = await host.InitializeAsync();

        Assert.Equal(new(null, null), result);
        Assert.Single(await AdminsAsync(host));
    }

    [Fact]
    public async Task Roles_exist_after_start()
    {
        await using var host = await PortalTestHost.StartAsync();

        await using var db = host.NewDb();
        var roles = await db.Roles.Select(r => r.Name).ToListAsync(Ct);

        Assert.Equal(GlobalRoles.All.Order(StringComparer.Ordinal), roles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Demo_mode_seeds_the_demo_tenants_and_accounts()
    {
        await using var host = await PortalTestHost.StartAsync(DemoOn);

        var (tenants, emails) = await DemoDataAsync(host);

        Assert.Equal(DemoAccounts.Tenants.Order(StringComparer.Ordinal), tenants);
        Assert.Equal(DemoAccounts.All.Select(a => a.Email).Order(StringComparer.Ordinal), emails);
        Assert.Equal((2, 5), (tenants.Count, emails.Count));
    }

    [Fact]
    public async Task Demo_seeding_twice_adds_nothing_the_second_time()
    {
        await using var host = await PortalTestHost.StartAsync(DemoOn);
        var first = await CountsAsync(host);

        await host.InitializeAsync();

        Assert.Equal(first, await CountsAsync(host));
    }

    [Fact]
    public async Task Demo_accounts_get_their_global_roles_and_memberships()
    {
        await using var host = await PortalTestHost.StartAsync(DemoOn);

        await using var db = host.NewDb();
        var owner = await db.Users.SingleAsync(u => u.Email == "owner@demo.virtportal.local", Ct);
        var ownerMemberships = await db.TenantMemberships.CountAsync(m => m.UserId == owner.Id, Ct);
        var demoAdmin = await db.Users.SingleAsync(u => u.Email == "admin@demo.virtportal.local", Ct);

        Assert.Equal(2, ownerMemberships);
        Assert.True(await host.WithUserManagerAsync(users => users.IsInRoleAsync(demoAdmin, GlobalRoles.Admin)));
    }

    [Fact]
    public async Task Demo_mode_off_seeds_nothing()
    {
        await using var host = await PortalTestHost.StartAsync();

        var (tenants, emails) = await DemoDataAsync(host);

        Assert.Empty(tenants);
        Assert.Empty(emails);
    }

    [Fact]
    public async Task Passwords_are_hashed_with_at_least_210000_iterations()
    {
        await using var host = await PortalTestHost.StartAsync();

        var options = host.Services.GetRequiredService<IOptions<PasswordHasherOptions>>().Value;
        var admin = Assert.Single(await AdminsAsync(host));

        // Identity v3 format: marker byte, PRF, iteration count (big-endian), salt length, salt, subkey.
        var hash = Convert.FromBase64String(admin.PasswordHash!);
        Assert.True(options.IterationCount >= 210_000, $"IterationCount is {options.IterationCount}.");
        Assert.Equal(0x01, hash[0]);
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(5, 4)) >= 210_000);
    }

    [Fact]
    public async Task Stored_password_hash_verifies_without_needing_a_rehash()
    {
        await using var host = await PortalTestHost.StartAsync();
        var admin = Assert.Single(await AdminsAsync(host));

        var result = await host.WithUserManagerAsync(users =>
            Task.FromResult(users.PasswordHasher.VerifyHashedPassword(admin, admin.PasswordHash!, PortalTestHost.AdminPassword)));

        Assert.Equal(PasswordVerificationResult.Success, result);
    }

    [Fact]
    public async Task Too_short_configured_admin_password_stops_start_up_naming_the_setting()
    {
        await using var host = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Bootstrap:AdminPassword"] = "short" }, initialize: false);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(host.InitializeAsync);

        Assert.Contains("Bootstrap:AdminPassword", error.Message, StringComparison.Ordinal);
        Assert.Empty(await AdminsAsync(host));
    }

    private static async Task<IList<PortalUser>> AdminsAsync(PortalTestHost host) =>
        await host.WithUserManagerAsync(users => users.GetUsersInRoleAsync(GlobalRoles.Admin));

    private static async Task<(List<string> Tenants, List<string> Emails)> DemoDataAsync(PortalTestHost host)
    {
        await using var db = host.NewDb();
        var tenants = await db.Tenants.Select(t => t.Name).ToListAsync(Ct);
        var emails = await db.Users.Where(u => u.Email!.EndsWith("@demo.virtportal.local")).Select(u => u.Email!).ToListAsync(Ct);
        return ([.. tenants.Order(StringComparer.Ordinal)], [.. emails.Order(StringComparer.Ordinal)]);
    }

    private static async Task<(int Tenants, int Users, int Memberships, int UserRoles)> CountsAsync(PortalTestHost host)
    {
        await using var db = host.NewDb();
        return (await db.Tenants.CountAsync(Ct), await db.Users.CountAsync(Ct), await db.TenantMemberships.CountAsync(Ct), await db.UserRoles.CountAsync(Ct));
    }
}
