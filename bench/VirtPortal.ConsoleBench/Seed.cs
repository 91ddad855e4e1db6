using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;
using VirtPortal.Libvirt;

namespace VirtPortal.ConsoleBench;

/// <summary>
/// Makes the bench's guest the way the portal makes VMs, before the portal starts: the portal's own Core
/// services and provisioning worker with the libvirt adapter, on the data directory the portal then opens.
/// The demo member requests a "Tiny test guest", the admin approves it if its policy did not, and the
/// worker creates it on the local libvirt.
/// </summary>
internal static class Seed
{
    public const string AdminEmail = "bench@console.virtportal.local";
    public const string AdminPassword = "console-bench-admin-password";
    public const string DemoPassword = "virtportal-demo";

    /// <summary>The portal's configuration for this data directory, shared by the seeding host and the portal.</summary>
    public static Dictionary<string, string?> Settings(string dataDirectory, Options options) => new()
    {
        ["ConnectionStrings:Portal"] = $"Data Source={Path.Combine(dataDirectory, "portal.db")}",
        ["DataDirectory"] = dataDirectory,
        ["Bootstrap:AdminEmail"] = AdminEmail,
        ["Bootstrap:AdminPassword"] = AdminPassword,
        ["Demo:Enabled"] = "true",
        ["Demo:Password"] = DemoPassword,
        ["Hosts:FirstRun"] = "libvirt",
        ["Hosts:LocalLibvirtUri"] = options.LibvirtUri,
        ["Hosts:LocalDomainType"] = options.DomainType,
        ["Databases:FirstRun"] = "none",
    };

    /// <summary>The new VM's id (also its domain's UUID) once the host runs it.</summary>
    public static async Task<Guid> RunAsync(string dataDirectory, Options options, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder();
        var settings = Settings(dataDirectory, options);
        builder.Configuration.AddInMemoryCollection(settings);
        // The seeding host's migration and key warnings are the first run's, not the bench's.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Error" });
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys"))).SetApplicationName("VirtPortal");
        builder.Services.AddPortalCore(builder.Configuration, settings["ConnectionStrings:Portal"]!);
        builder.Services.AddPortalLibvirt(builder.Configuration);
        using var app = builder.Build();
        await using (var scope = app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(ct);
        await app.StartAsync(ct);
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var admin = await ActorAsync(db, AdminEmail, [GlobalRoles.Admin], ct);
        var member = await ActorAsync(db, DemoAccounts.All[0].Email, [], ct);
        var tenantId = await db.Tenants.Where(t => t.Name == DemoAccounts.AcmeTenant).Select(t => t.Id).SingleAsync(ct);
        var template = await db.VmTemplates.Include(t => t.AllowedSizes).SingleAsync(t => t.Name == DemoCatalog.TestGuestTemplate, ct);
        var name = "con-" + Guid.NewGuid().ToString("N")[..6];

        var requestId = await app.Services.GetRequiredService<RequestDrafts>().SubmitAsync(member, new RequestDraft
        {
            Kind = RequestKind.NewVm, TenantId = tenantId, Name = name, TemplateId = template.Id,
            SizeId = template.AllowedSizes.OrderBy(s => s.RamMiB).First().Id, LeaseDays = 1, Justification = "console bench",
        }, ct);
        if ((await db.Requests.AsNoTracking().SingleAsync(r => r.Id == requestId, ct)).State == RequestState.PendingApproval)
            await app.Services.GetRequiredService<RequestDecisions>().ApproveAsync(admin, requestId, ct);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(5));
        while (true)
        {
            var vm = await db.Resources.AsNoTracking().Where(r => r.Name == name).Select(r => new { r.Id, r.State }).SingleOrDefaultAsync(limit.Token);
            if (vm?.State == ResourceState.Failed)
                throw new InvalidOperationException($"the bench's VM failed to provision; see the audit log in {dataDirectory}");
            if (vm?.State == ResourceState.Running)
            {
                await app.StopAsync(ct);
                return vm.Id;
            }

            await Task.Delay(250, limit.Token);
        }
    }

    private static async Task<Actor> ActorAsync(PortalDbContext db, string email, string[] roles, CancellationToken ct)
    {
        var id = await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync(ct);
        return new Actor(id, email, roles.ToHashSet());
    }
}
