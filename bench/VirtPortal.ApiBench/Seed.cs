using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.ApiBench;

/// <summary>What the bench calls with: a tenant of its own with room for every request, and API tokens of its member and an admin.</summary>
internal sealed record World(Guid TenantId, string MemberToken, string AdminToken);

/// <summary>
/// Prepares the portal's data directory before the portal starts, through the portal's own Core services: the
/// first run (demo accounts, simulated host), a tenant "api-bench" whose member is the demo member, and the
/// tokens the user menu would make.
/// </summary>
internal static class Seed
{
    public const string AdminEmail = "bench@api.virtportal.local";
    public const string AdminPassword = "api-bench-admin-password";

    public static Dictionary<string, string?> Settings(string dataDirectory) => new()
    {
        ["ConnectionStrings:Portal"] = $"Data Source={Path.Combine(dataDirectory, "portal.db")}",
        ["DataDirectory"] = dataDirectory,
        ["Bootstrap:AdminEmail"] = AdminEmail,
        ["Bootstrap:AdminPassword"] = AdminPassword,
        ["Demo:Enabled"] = "true",
        ["Demo:Password"] = "virtportal-demo",
        ["Hosts:FirstRun"] = "simulated",
        ["Hosts:SimulatedDelays"] = "false",
        ["Databases:FirstRun"] = "none",
        ["Webhooks:AllowPrivateTargets"] = "true",
    };

    public static async Task<World> RunAsync(string dataDirectory, int vms, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder();
        var settings = Settings(dataDirectory);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Error" });
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys"))).SetApplicationName("VirtPortal");
        builder.Services.AddPortalCore(builder.Configuration, settings["ConnectionStrings:Portal"]!);
        using var app = builder.Build();
        await using (var scope = app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(ct);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        var admin = await ActorAsync(db, AdminEmail, [GlobalRoles.Admin], ct);
        var memberEmail = DemoAccounts.All[0].Email;
        var member = await ActorAsync(db, memberEmail, [], ct);
        var tenants = app.Services.GetRequiredService<TenantService>();
        var quota = new TenantQuota { VCpus = vms * 2, RamMiB = vms * 2048, DiskGiB = vms * 20, Vms = vms, Databases = 5 };
        var tenantId = await tenants.CreateAsync(admin, "api-bench", "The API bench's requests.", quota, ct);
        await tenants.AddMemberAsync(admin, tenantId, memberEmail, TenantRole.Owner, ct);
        var tokens = app.Services.GetRequiredService<ApiTokenService>();
        var expires = DateTimeOffset.UtcNow.AddDays(1);
        var memberToken = await tokens.CreateAsync(member, new ApiTokenDraft("api-bench", expires, tenantId), ct);
        var adminToken = await tokens.CreateAsync(admin, new ApiTokenDraft("api-bench-admin", expires), ct);
        return new World(tenantId, memberToken.Secret, adminToken.Secret);
    }

    private static async Task<Actor> ActorAsync(PortalDbContext db, string email, string[] roles, CancellationToken ct)
    {
        var id = await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync(ct);
        return new Actor(id, email, roles.ToHashSet());
    }
}
