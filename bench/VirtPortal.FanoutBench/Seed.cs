using System.Globalization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.FanoutBench;

/// <summary>
/// Fills a fresh data directory with running VMs the way the portal makes them, before the portal starts:
/// the portal's own Core services and hosted provisioning worker, on the same SQLite file and the same
/// simulated host's state file the portal then opens. The admin makes a small size and template, widens
/// Acme Research's quota and the simulated host's CPU overcommit; the demo member submits one request per
/// VM, each auto-approved by the tenant's policy, and the worker provisions them on the simulated host.
/// </summary>
internal static class Seed
{
    public const string AdminEmail = "bench@fanout.virtportal.local";
    public const string AdminPassword = "fanout-bench-admin-password";

    /// <summary>The portal's configuration for this data directory, shared by the seeding host and the portal.</summary>
    public static Dictionary<string, string?> Settings(string dataDirectory) => new()
    {
        ["ConnectionStrings:Portal"] = $"Data Source={Path.Combine(dataDirectory, "portal.db")}",
        ["DataDirectory"] = dataDirectory,
        ["Bootstrap:AdminEmail"] = AdminEmail,
        ["Bootstrap:AdminPassword"] = AdminPassword,
        ["Demo:Enabled"] = "true",
        ["Hosts:FirstRun"] = "simulated",
        ["Databases:FirstRun"] = "none",
        ["Hosts:SimulatedStateDirectory"] = Path.Combine(dataDirectory, "simulated"),
        ["Hosts:SimulatedDelays"] = "false",
        ["Monitoring:Interval"] = "00:00:01",
    };

    public static async Task<IReadOnlyList<Guid>> RunAsync(string dataDirectory, int vms, CancellationToken ct)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(Settings(dataDirectory));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Provisioning:MaxConcurrentPerHost"] = "16",
            ["Provisioning:IdleDelay"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys"))).SetApplicationName("VirtPortal");
        builder.Services.AddPortalCore(builder.Configuration, Settings(dataDirectory)["ConnectionStrings:Portal"]!);
        using var app = builder.Build();
        await using (var scope = app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(ct);
        await app.StartAsync(ct);
        var services = app.Services;
        var dbFactory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();

        var admin = await ActorAsync(services, AdminEmail, [GlobalRoles.Admin], ct);
        var member = await ActorAsync(services, DemoAccounts.All[0].Email, [], ct);
        Guid tenantId;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            tenantId = await db.Tenants.Where(t => t.Name == DemoAccounts.AcmeTenant).Select(t => t.Id).SingleAsync(ct);

        var catalog = services.GetRequiredService<CatalogService>();
        var sizeId = await catalog.CreateSizeAsync(admin, new SizeInput("fanout", 1, 256, 1, 0m), ct);
        var templateId = await catalog.CreateTemplateAsync(admin, new TemplateInput("Fanout guest", null, "busybox", "vp-tiny", 7, 0m, [sizeId]), ct);
        var tenants = services.GetRequiredService<TenantService>();
        var tenant = (await tenants.GetAsync(admin, tenantId, ct)).Tenant;
        await tenants.UpdateAsync(admin, tenantId, tenant.Name, tenant.Description,
            tenant.Quota with { VCpus = vms + 64, RamMiB = (vms * 256) + 65536, DiskGiB = vms + 1000, Vms = vms + 20 }, ct);
        var policies = services.GetRequiredService<PolicyService>();
        var policy = await policies.GetAsync(admin, tenantId, ct);
        policy.AutoApprove = true;
        await policies.SaveAsync(admin, tenantId, policy, ct);
        var hosts = services.GetRequiredService<HostService>();
        var host = (await hosts.ListAsync(admin, ct)).Single();
        // 32 simulated CPUs: 500 one-vCPU VMs need an overcommit of 16 (the portal allows up to 32).
        var overcommit = Math.Max(4, Math.Ceiling((vms + 32) / 32.0));
        await hosts.UpdateAsync(admin, host.Id, new HostInput(host.Name, host.Driver, host.Uri, host.DomainType, overcommit, 2), ct);

        var drafts = services.GetRequiredService<RequestDrafts>();
        var started = DateTimeOffset.UtcNow;
        for (var i = 1; i <= vms; i++)
        {
            await drafts.SubmitAsync(member, new RequestDraft
            {
                Kind = RequestKind.NewVm, TenantId = tenantId, Name = string.Create(CultureInfo.InvariantCulture, $"fan-{i:D4}"),
                TemplateId = templateId, SizeId = sizeId, LeaseDays = 7, Justification = "fan-out bench",
            }, ct);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed: {vms} requests submitted in {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s; provisioning"));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(10));
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var running = await db.Resources.Where(r => r.Name.StartsWith("fan-") && r.State == ResourceState.Running).Select(r => r.Id).ToListAsync(ct);
            var failed = await db.Resources.CountAsync(r => r.Name.StartsWith("fan-") && r.State == ResourceState.Failed, ct);
            if (failed > 0)
                throw new InvalidOperationException($"{failed} bench VMs failed to provision; see the audit log in {dataDirectory}.");
            if (running.Count == vms)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed: {vms} VMs running after {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s"));
                await app.StopAsync(ct);
                return [.. running.Order()];
            }

            await Task.Delay(500, limit.Token);
        }
    }

    private static async Task<Actor> ActorAsync(IServiceProvider services, string email, string[] roles, CancellationToken ct)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        var id = await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync(ct);
        return new Actor(id, email, roles.ToHashSet());
    }
}
