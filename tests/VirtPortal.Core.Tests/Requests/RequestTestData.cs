using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Requests;

/// <summary>The catalog rows the request tests use, seeded straight into the database.</summary>
public sealed record TestCatalog(Guid Debian, Guid Appliance, Guid Retired, Guid Small, Guid Large, Guid Postgres)
{
    /// <summary>Hourly prices, so tests can state the showback they expect.</summary>
    public const decimal DebianHourly = 0.01m;
    public const decimal SmallHourly = 0.02m;
    public const decimal LargeHourly = 0.10m;

    /// <summary>Small: within the default auto-approval limits (4 vCPUs, 8 GiB RAM, 100 GiB disk).</summary>
    public static ResourceDemand SmallVm => new() { VCpus = 2, RamMiB = 4096, DiskGiB = 40, Vms = 1 };

    /// <summary>Large: over every default auto-approval limit, inside the default quota.</summary>
    public static ResourceDemand LargeVm => new() { VCpus = 8, RamMiB = 16384, DiskGiB = 200, Vms = 1 };
}

/// <summary>A tenant with a requester, its owner, another plain member, an approver and the admin.</summary>
public sealed record RequestScenario(
    Guid TenantId, TestCatalog Catalog, Actor Requester, Actor Owner, Actor OtherMember, Actor Approver, Actor Admin);

public static class RequestTestData
{
    public static RequestDrafts Drafts(this PortalTestHost host) => host.Services.GetRequiredService<RequestDrafts>();

    public static RequestDecisions Decisions(this PortalTestHost host) => host.Services.GetRequiredService<RequestDecisions>();

    public static RequestQueries RequestQueries(this PortalTestHost host) => host.Services.GetRequiredService<RequestQueries>();

    public static async Task<RequestScenario> ArrangeAsync(PortalTestHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var catalog = await SeedCatalogAsync(host);
        var requester = await host.CreateUserAsync("requester@test.local");
        var owner = await host.CreateUserAsync("owner@test.local");
        var other = await host.CreateUserAsync("other@test.local");
        var approver = await host.CreateUserAsync("approver@test.local", GlobalRoles.Approver);
        var tenant = await host.CreateTenantAsync("Acme", (requester, TenantRole.Member), (owner, TenantRole.Owner), (other, TenantRole.Member));
        return new RequestScenario(tenant, catalog, requester, owner, other, approver, await host.AdminAsync());
    }

    /// <summary>
    /// Debian (any size), Appliance (Small only), Retired (disabled); sizes Small and Large; one
    /// PostgreSQL offering.
    /// </summary>
    public static async Task<TestCatalog> SeedCatalogAsync(PortalTestHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        await using var db = host.NewDb();
        var small = new VmSize { Id = Guid.NewGuid(), Name = "small", VCpus = 2, RamMiB = 4096, DiskGiB = 40, HourlyPrice = TestCatalog.SmallHourly };
        var large = new VmSize { Id = Guid.NewGuid(), Name = "large", VCpus = 8, RamMiB = 16384, DiskGiB = 200, HourlyPrice = TestCatalog.LargeHourly };
        var debian = new VmTemplate { Id = Guid.NewGuid(), Name = "debian-12", OsLabel = "Debian 12", HourlyPrice = TestCatalog.DebianHourly };
        var appliance = new VmTemplate { Id = Guid.NewGuid(), Name = "appliance", HourlyPrice = 0.05m, AllowedSizes = [small] };
        var retired = new VmTemplate { Id = Guid.NewGuid(), Name = "centos-7", HourlyPrice = 0.01m, Enabled = false };
        var postgres = new DatabaseOffering { Id = Guid.NewGuid(), Name = "postgres-small", StorageGiB = 20, ConnectionLimit = 50, HourlyPrice = 0.03m };
        db.VmSizes.AddRange(small, large);
        db.VmTemplates.AddRange(debian, appliance, retired);
        db.DatabaseOfferings.Add(postgres);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return new TestCatalog(debian.Id, appliance.Id, retired.Id, small.Id, large.Id, postgres.Id);
    }

    /// <summary>Stores the tenant's policy: the defaults changed by <paramref name="change"/>.</summary>
    public static async Task SetPolicyAsync(PortalTestHost host, Guid tenantId, Action<TenantPolicy> change)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(change);
        await using var db = host.NewDb();
        var policy = TenantPolicy.Default(tenantId);
        change(policy);
        db.TenantPolicies.Add(policy);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    public static async Task SetQuotaAsync(PortalTestHost host, Guid tenantId, TenantQuota quota)
    {
        ArgumentNullException.ThrowIfNull(host);
        await using var db = host.NewDb();
        var tenant = await db.Tenants.SingleAsync(t => t.Id == tenantId, TestContext.Current.CancellationToken);
        tenant.Quota = quota;
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A running VM the tenant already has, leased for 7 days from now.</summary>
    public static async Task<Resource> AddVmAsync(PortalTestHost host, Guid tenantId, string name, ResourceDemand size)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(size);
        await using var db = host.NewDb();
        var now = host.Time.GetUtcNow();
        var vm = new Resource
        {
            Id = Guid.NewGuid(),
            TenantId = tenantId,
            Kind = ResourceKind.Vm,
            Name = name,
            VCpus = size.VCpus,
            RamMiB = size.RamMiB,
            DiskGiB = size.DiskGiB,
            HourlyPrice = 0.03m,
            State = ResourceState.Running,
            CreatedAt = now,
            LeaseEndsAt = now.AddDays(7),
            Version = 1,
        };
        db.Resources.Add(vm);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return vm;
    }

    public static RequestDraft NewVm(this RequestScenario scenario, string name, Guid? sizeId = null, Guid? templateId = null, int leaseDays = 7)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return new RequestDraft
        {
            Kind = RequestKind.NewVm,
            TenantId = scenario.TenantId,
            Name = name,
            TemplateId = templateId ?? scenario.Catalog.Debian,
            SizeId = sizeId ?? scenario.Catalog.Small,
            LeaseDays = leaseDays,
            Justification = "for the tests",
        };
    }

    /// <summary>A VM request over the auto-approval limits, so it waits for an approver.</summary>
    public static RequestDraft LargeVm(this RequestScenario scenario, string name)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return scenario.NewVm(name, scenario.Catalog.Large);
    }

    public static async Task<Request> RequestAsync(this PortalTestHost host, Guid requestId)
    {
        ArgumentNullException.ThrowIfNull(host);
        await using var db = host.NewDb();
        return await db.Requests.AsNoTracking().Include(r => r.Timeline).Include(r => r.Approvals)
            .SingleAsync(r => r.Id == requestId, TestContext.Current.CancellationToken);
    }

    public static async Task<List<Resource>> ResourcesAsync(this PortalTestHost host, Guid tenantId)
    {
        ArgumentNullException.ThrowIfNull(host);
        await using var db = host.NewDb();
        return await db.Resources.AsNoTracking().Where(r => r.TenantId == tenantId).ToListAsync(TestContext.Current.CancellationToken);
    }
}
