using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Core.Tests.Monitoring;

/// <summary>The collector over the simulated demo host, driven sample by sample on the fake clock.</summary>
public sealed class MetricsCollectorTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Resource vm = default!;
    private SimulatedHypervisor hypervisor = default!;
    private Guid hostId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private MetricsCollector Collector => host.Services.GetRequiredService<MetricsCollector>();

    private MetricsQueries Queries => host.Services.GetRequiredService<MetricsQueries>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync(new Dictionary<string, string?> { ["Monitoring:Interval"] = "00:00:01" });
        scenario = await RequestTestData.ArrangeAsync(host);
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await host.Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker", Ct);
        vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Equal(ResourceState.Running, vm.State);
        hypervisor = await host.DemoHostAsync();
        hostId = vm.HostId!.Value;
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Each_sample_after_the_first_publishes_one_point_per_portal_vm_and_none_for_other_domains()
    {
        var published = Channel.CreateUnbounded<MetricsSampled>();
        using var subscription = host.Services.GetRequiredService<LiveUpdates>().Subscribe(m =>
            m is MetricsSampled s ? published.Writer.WriteAsync(s, Ct).AsTask() : Task.CompletedTask);
        // Made with virsh, not the portal: its counters move too, but it is nobody's resource.
        var stranger = new DomainSpec(Guid.NewGuid(), "not-ours", 1, 512, 10, "debian-12");
        await hypervisor.CreateAsync(stranger, Ct);

        var first = await Collector.SampleHostAsync(hostId, Ct);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await Collector.SampleHostAsync(hostId, Ct);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var third = await Collector.SampleHostAsync(hostId, Ct);

        Assert.Equal((0, 1, 1), (first.Points, second.Points, third.Points));
        var points = new[] { await ReadAsync(published), await ReadAsync(published) };
        Assert.All(points, p => Assert.Equal((scenario.TenantId, vm.Id), (p.ResourceTenantId, p.ResourceId)));
        Assert.Equal([host.Time.GetUtcNow().AddSeconds(-1), host.Time.GetUtcNow()], points.Select(p => p.Point.At).Order());
        Assert.All(points, p => Assert.InRange(p.Point.CpuPercent, 0.01, 100));
        Assert.All(points, p => Assert.True(p.Point.DiskReadBytesPerSecond > 0 && p.Point.NetRxBytesPerSecond > 0 && p.Point.MemoryUsedBytes > 0));
        Assert.False(published.Reader.TryRead(out var extra), $"a point for {extra?.ResourceId}");
        // The member sees what was published: the live window and the newest point.
        var series = await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.FifteenMinutes, Ct);
        Assert.Equal(points.Select(p => p.Point).OrderBy(p => p.At), series);
        Assert.Equal(series[^1], await Queries.LatestAsync(scenario.Requester, vm.Id, Ct));
    }

    [Fact]
    public async Task Host_and_tenant_sums_add_up_the_vms_of_the_last_sample()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-2"), Ct);
        await host.Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker", Ct);
        await Collector.SampleHostAsync(hostId, Ct);
        host.Time.Advance(TimeSpan.FromSeconds(5));

        var sample = await Collector.SampleHostAsync(hostId, Ct);

        var latest = new List<MetricPoint>();
        foreach (var resource in await host.ResourcesAsync(scenario.TenantId))
            latest.Add((await Queries.LatestAsync(scenario.Requester, resource.Id, Ct))!);
        var tenant = (await Queries.TenantTotalsAsync(scenario.Requester, scenario.TenantId, Ct))!;
        var onHost = (await Queries.HostTotalsAsync(scenario.Admin, hostId, Ct))!;
        Assert.Equal(2, sample.Points);
        Assert.Equal((2, latest.Sum(p => p.MemoryUsedBytes)), (tenant.Resources, tenant.MemoryUsedBytes));
        Assert.Equal(latest.Sum(p => p.NetRxBytesPerSecond), tenant.NetRxBytesPerSecond, precision: 6);
        Assert.True(onHost.Answered);
        Assert.Equal(tenant, onHost.Totals);
        Assert.InRange(tenant.CpuCores, 0.001, tenant.VCpus);
    }

    [Fact]
    public async Task At_one_second_the_live_window_holds_fifteen_minutes_and_no_more()
    {
        var capacity = host.Services.GetRequiredService<MetricStore>().WindowCapacity;
        for (var i = 0; i < 1000; i++)
        {
            await Collector.SampleHostAsync(hostId, Ct);
            host.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var series = await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.FifteenMinutes, Ct);

        Assert.Equal(901, capacity);
        Assert.InRange(series.Count, 899, 901);
        Assert.True(series[0].At >= host.Time.GetUtcNow().AddMinutes(-15), $"oldest point {series[0].At:O}");
        Assert.Equal(series.OrderBy(p => p.At), series);
    }

    [Fact]
    public async Task Finished_minutes_and_hours_are_stored_and_pruned_after_their_retention()
    {
        // From 09:00 to 10:05, a sample every 30 s: the 09:00 hour and 64 minutes are finished.
        for (var i = 0; i <= 130; i++)
        {
            await Collector.SampleHostAsync(hostId, Ct);
            host.Time.Advance(TimeSpan.FromSeconds(30));
        }

        var hour = await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.Hour, Ct);
        var day = await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.Day, Ct);
        var week = await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.Week, Ct);
        Assert.InRange(hour.Count, 59, 61);
        Assert.Equal(65, day.Count);
        var nineOClock = Assert.Single(week);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero), nineOClock.At);
        // The hour weighs its minutes by samples (09:00 had one, the others two), hence not exactly the plain mean.
        Assert.InRange(nineOClock.CpuPercent - day.Where(p => p.At.Hour == 9).Average(p => p.CpuPercent), -0.5, 0.5);

        // Two days later only the hourly rollups are left; 90 days later nothing.
        host.Time.Advance(TimeSpan.FromHours(49));
        await Collector.PruneAsync(Ct);
        Assert.Equal((0, 0), (await RollupsAsync(MetricResolution.Minute), (await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.Day, Ct)).Count));
        Assert.Equal(1, await RollupsAsync(MetricResolution.Hour));
        host.Time.Advance(TimeSpan.FromDays(90));
        await Collector.PruneAsync(Ct);
        Assert.Equal(0, await RollupsAsync(MetricResolution.Hour));
    }

    [Fact]
    public async Task A_host_that_does_not_answer_is_marked_unreachable_and_its_vms_get_no_points_until_it_answers()
    {
        await Collector.SampleHostAsync(hostId, Ct);
        hypervisor.Faults.Fail("Stats", () => new HypervisorUnreachableException("Cannot recv data: Connection reset by peer"));
        host.Time.Advance(TimeSpan.FromSeconds(1));

        var silent = await Collector.SampleHostAsync(hostId, Ct);

        Assert.Equal((false, 0), (silent.Answered, silent.Points));
        Assert.Equal((HostState.Unreachable, "Cannot recv data: Connection reset by peer"), await HostStateAsync());
        Assert.Single(await host.AuditAsync(AuditActions.HostUnreachable));
        Assert.False((await Queries.HostTotalsAsync(scenario.Admin, hostId, Ct))!.Answered);

        hypervisor.Faults.Clear();
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var back = await Collector.SampleHostAsync(hostId, Ct);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var next = await Collector.SampleHostAsync(hostId, Ct);

        // The first answer is a fresh baseline: the host may have restarted while it was silent.
        Assert.Equal((true, 0, 1), (back.Answered, back.Points, next.Points));
        Assert.Equal((HostState.Online, (string?)null), await HostStateAsync());
    }

    [Fact]
    public async Task A_host_that_hangs_past_the_sample_timeout_counts_as_unreachable()
    {
        hypervisor.Faults.Hang("Stats");

        var sampling = Collector.SampleHostAsync(hostId, Ct);
        await host.Time.WaitForTimerAsync(TimeSpan.FromSeconds(10), Ct);
        host.Time.Advance(TimeSpan.FromSeconds(10));
        var result = await sampling;

        Assert.False(result.Answered);
        Assert.Equal(HostState.Unreachable, (await HostStateAsync()).State);
    }

    [Fact]
    public async Task A_vm_restarted_between_samples_gives_a_fresh_baseline_not_a_negative_rate()
    {
        await Collector.SampleHostAsync(hostId, Ct);
        host.Time.Advance(TimeSpan.FromMinutes(5));
        await Collector.SampleHostAsync(hostId, Ct);
        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Shutoff);
        await hypervisor.SetStateOutsideAsync(vm.Id, DomainState.Running);
        host.Time.Advance(TimeSpan.FromSeconds(5));

        var afterRestart = await Collector.SampleHostAsync(hostId, Ct);
        host.Time.Advance(TimeSpan.FromSeconds(5));
        var next = await Collector.SampleHostAsync(hostId, Ct);

        Assert.Equal((0, 1), (afterRestart.Points, next.Points));
        var series = await Queries.SeriesAsync(scenario.Requester, vm.Id, MetricRange.FifteenMinutes, Ct);
        Assert.All(series, p => Assert.True(p.CpuPercent >= 0 && p.DiskReadBytesPerSecond >= 0 && p.NetTxBytesPerSecond >= 0));
    }

    private static async Task<MetricsSampled> ReadAsync(Channel<MetricsSampled> channel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        return await channel.Reader.ReadAsync(timeout.Token);
    }

    private async Task<int> RollupsAsync(MetricResolution resolution)
    {
        await using var db = host.NewDb();
        return await db.MetricRollups.CountAsync(r => r.ResourceId == vm.Id && r.Resolution == resolution, Ct);
    }

    private async Task<(HostState State, string? Error)> HostStateAsync()
    {
        await using var db = host.NewDb();
        var row = await db.Hosts.AsNoTracking().SingleAsync(h => h.Id == hostId, Ct);
        return (row.State, row.LastError);
    }
}
