using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Common;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Tenancy;

/// <summary>
/// The tenant dashboard's figures as a member reads them: counts by the state the rows show, quota held
/// against the tenant's quota, and this month's spend, which runs while a resource exists and stops at its
/// deletion.
/// </summary>
public sealed class TenantDashboardsTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TenantDashboards Dashboards => host.Services.GetRequiredService<TenantDashboards>();

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    private async Task<Guid> RunningVmAsync(string name)
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm(name), Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        return (await host.ResourcesAsync(scenario.TenantId)).Single(r => r.Name == name).Id;
    }

    [Fact]
    public async Task Counts_and_quota_use_follow_the_state_the_host_reports()
    {
        var web = await RunningVmAsync("web-1");
        await RunningVmAsync("web-2");
        var hypervisor = await host.DemoHostAsync();

        var dashboard = await Dashboards.GetAsync(scenario.Requester, scenario.TenantId, Ct);
        Assert.Equal(new StateCounts(2, 0, 0, 0), dashboard.Vms);
        Assert.Equal(new StateCounts(0, 0, 0, 0), dashboard.Databases);
        Assert.Equal((4, 8192, 80, 2, 0), (dashboard.Quota.Used.VCpus, dashboard.Quota.Used.RamMiB, dashboard.Quota.Used.DiskGiB, dashboard.Quota.Used.Vms, dashboard.Quota.Used.Databases));
        await using (var db = host.NewDb())
            Assert.Equal(await db.Tenants.AsNoTracking().Where(t => t.Id == scenario.TenantId).Select(t => t.Quota).SingleAsync(Ct), dashboard.Quota.Quota);

        // Paused behind the portal's back: the dashboard counts what the rows show.
        await hypervisor.SuspendAsync(web, Ct);
        await host.Services.GetRequiredService<Reconciler>().RunAsync(Ct);
        dashboard = await Dashboards.GetAsync(scenario.Requester, scenario.TenantId, Ct);
        Assert.Equal(new StateCounts(1, 0, 1, 0), dashboard.Vms);

        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, web, OperationKind.ForceOff, ct: Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        dashboard = await Dashboards.GetAsync(scenario.Requester, scenario.TenantId, Ct);
        Assert.Equal(new StateCounts(1, 1, 0, 0), dashboard.Vms);
        Assert.Equal(2, dashboard.Quota.Used.Vms);
    }

    [Fact]
    public async Task Spend_runs_while_a_resource_exists_and_stops_when_it_is_deleted()
    {
        var start = host.Time.GetUtcNow();
        var vm = await RunningVmAsync("web-1");
        await using (var db = host.NewDb())
            Assert.Equal(TestCatalog.DebianHourly + TestCatalog.SmallHourly, await db.Resources.Where(r => r.Id == vm).Select(r => r.HourlyPrice).SingleAsync(Ct));
        const decimal hourly = TestCatalog.DebianHourly + TestCatalog.SmallHourly;

        host.Time.Advance(TimeSpan.FromHours(10));
        var dashboard = await Dashboards.GetAsync(scenario.Requester, scenario.TenantId, Ct);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), dashboard.Spend.MonthStart);
        Assert.Equal(hourly * 10, dashboard.Spend.SoFar);
        Assert.Equal(hourly, dashboard.Spend.HourlyNow);
        var hoursLeft = (decimal)(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) - host.Time.GetUtcNow()).TotalHours;
        Assert.Equal(decimal.Round((hourly * 10) + (hourly * hoursLeft), 2), dashboard.Spend.Projected);

        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, vm, OperationKind.Delete, "web-1", Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker", Ct));
        await using (var db = host.NewDb())
            Assert.Equal(start + TimeSpan.FromHours(10), await db.Resources.Where(r => r.Id == vm).Select(r => r.DeletedAt).SingleAsync(Ct));

        host.Time.Advance(TimeSpan.FromHours(5));
        dashboard = await Dashboards.GetAsync(scenario.Requester, scenario.TenantId, Ct);
        Assert.Equal(hourly * 10, dashboard.Spend.SoFar);
        Assert.Equal(0m, dashboard.Spend.HourlyNow);
        Assert.Equal(hourly * 10, dashboard.Spend.Projected);
        Assert.Equal(new StateCounts(0, 0, 0, 0), dashboard.Vms);
        Assert.Equal(0, dashboard.Quota.Used.Vms);
    }

    [Fact]
    public void A_month_counts_only_its_own_hours()
    {
        var now = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        var spend = MonthSpend.Of(
        [
            // Running since last month: from 1 December 00:00, 60 hours.
            new MonthSpend.Item(1.00m, new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero), null),
            // Created and deleted this month: 6 hours.
            new MonthSpend.Item(0.50m, new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero)),
            // Deleted last month: nothing.
            new MonthSpend.Item(9.00m, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero)),
        ], now);

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), spend.MonthStart);
        Assert.Equal(63.00m, spend.SoFar);
        Assert.Equal(1.00m, spend.HourlyNow);
        // 60 + 3 so far, and 28.5 days (684 hours) left at 1.00 an hour.
        Assert.Equal(747.00m, spend.Projected);
    }

    [Fact]
    public async Task Another_tenant_s_member_is_refused_and_the_refusal_is_audited()
    {
        var stranger = await host.CreateUserAsync("stranger@test.local");
        await host.CreateTenantAsync("Elsewhere", (stranger, TenantRole.Member));

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Dashboards.GetAsync(stranger, scenario.TenantId, Ct));

        var denied = Assert.Single(await host.AuditAsync("access.denied"));
        Assert.Equal(scenario.TenantId, denied.TenantId);
    }
}
