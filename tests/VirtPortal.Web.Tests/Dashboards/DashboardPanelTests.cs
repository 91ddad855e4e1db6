using Bunit;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Components.Pages.Admin;
using VirtPortal.Web.Components.Pages.Tenants;

namespace VirtPortal.Web.Tests.Dashboards;

/// <summary>The tenant and host dashboards render the figures they are given, in the words a reader checks them by.</summary>
public sealed class DashboardPanelTests : PortalComponentTest
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 18, 30, 0, TimeSpan.Zero);

    [Fact]
    public void The_tenant_dashboard_shows_counts_quota_use_and_spend()
    {
        var dashboard = new TenantDashboard(
            Guid.NewGuid(), new StateCounts(3, 1, 1, 0), new StateCounts(0, 0, 0, 1),
            new QuotaUse(new ResourceDemand { VCpus = 9, RamMiB = 4096, DiskGiB = 40, Vms = 5, Databases = 1 },
                new TenantQuota { VCpus = 10, RamMiB = 16384, DiskGiB = 500, Vms = 10, Databases = 0 }),
            new MonthSpend(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), Now, 12.34m, 0.25m, 191.09m));

        var panel = Render<TenantDashboardPanel>(p => p.Add(x => x.Dashboard, dashboard));

        var vms = panel.Find("[data-testid=dashboard-vms]");
        Assert.Equal(("3", "1", "1"), (vms.GetAttribute("data-running"), vms.GetAttribute("data-stopped"), vms.GetAttribute("data-paused")));
        Assert.Contains("3 running", panel.Find("[data-testid=dashboard-vms-running]").TextContent, StringComparison.Ordinal);
        Assert.Contains("1 other", panel.Find("[data-testid=dashboard-databases-other]").TextContent, StringComparison.Ordinal);
        Assert.Contains("9 of 10", panel.Find("[data-testid=quota-use-vcpus]").TextContent, StringComparison.Ordinal);
        Assert.Contains("4 GiB of 16 GiB", panel.Find("[data-testid=quota-use-ram]").TextContent, StringComparison.Ordinal);
        Assert.Contains("1 of 0", panel.Find("[data-testid=quota-use-databases]").TextContent, StringComparison.Ordinal);
        Assert.Equal("12.34", panel.Find("[data-testid=spend-so-far]").GetAttribute("data-amount"));
        Assert.Contains("191.09", panel.Find("[data-testid=spend-rate]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_s_load_is_its_guests_cpu_and_memory_against_its_own_or_says_it_did_not_answer()
    {
        var host = new HostView(Guid.NewGuid(), "kvm-1", HostDriver.Libvirt, "qemu:///system", "kvm", HostState.Online, 4, 1.5,
            8, 16384, 500, 6, 8192, 100, 3, Now, null, false, true, null, 1);
        var totals = new MetricTotals(Now, 3, 2.5, 6, 3L << 30, 6L << 30, 1024, 2048, 512, 256);
        var sample = new HostSample(host.Id, host.Name, Now, TimeSpan.FromMilliseconds(21), true, totals, new Dictionary<Guid, MetricTotals>());

        var load = Render<HostLoadCell>(p => p.Add(x => x.Host, host).Add(x => x.Sample, sample));

        var cell = load.Find("[data-testid=host-kvm-1-load]");
        Assert.Equal(("true", "2.5"), (cell.GetAttribute("data-answered"), cell.GetAttribute("data-cpu-cores")));
        Assert.Contains("CPU 2.5 of 8 cores", cell.TextContent, StringComparison.Ordinal);
        Assert.Contains("Memory 3 GiB of 16 GiB", cell.TextContent, StringComparison.Ordinal);
        Assert.Contains("3 VMs sampled at 18:30:00 in 21 ms", cell.TextContent, StringComparison.Ordinal);

        var silent = Render<HostLoadCell>(p => p.Add(x => x.Host, host).Add(x => x.Sample, sample with { Answered = false }));
        Assert.Contains("No answer to the stats call at 18:30:00", silent.Find("[data-testid=host-kvm-1-load]").TextContent, StringComparison.Ordinal);
    }
}
