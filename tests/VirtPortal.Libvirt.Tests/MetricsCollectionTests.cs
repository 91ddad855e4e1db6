using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Libvirt.Tests;

/// <summary>Bulk stats and the metrics collector against a real guest on qemu:///system.</summary>
public sealed class MetricsCollectionTests(SystemLibvirtFixture fixture) : SystemGuestTest(fixture)
{
    [Fact]
    public async Task Bulk_stats_of_a_running_guest_show_cpu_time_moving_and_name_where_memory_comes_from()
    {
        var spec = NewSpec();
        await Hypervisor.CreateAsync(spec, Ct);

        var first = Assert.Single(await Hypervisor.GetAllStatsAsync(Ct), s => s.Id == spec.Id);
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        var second = Assert.Single(await Hypervisor.GetAllStatsAsync(Ct), s => s.Id == spec.Id);

        Assert.Equal((DomainState.Running, 1), (second.State, second.VCpus));
        Assert.True(second.CpuTimeNs > first.CpuTimeNs, $"cpu time {first.CpuTimeNs} ns, a second later {second.CpuTimeNs} ns");
        Assert.Equal(128UL * 1024, second.MemoryMaxKiB);
        Assert.NotEqual(MemoryUsedSource.None, second.MemoryUsedSource);
        Assert.InRange(second.MemoryUsedKiB, 1UL, 1024UL * 1024);
        Assert.NotNull(MetricRates.Between(first, second));
    }

    [Fact]
    public async Task The_collector_gives_a_booting_guest_a_non_zero_cpu_share_and_publishes_it()
    {
        var spec = NewSpec();
        await using var portal = await CollectorPortal.StartAsync(spec.Id);
        var published = new TaskCompletionSource<MetricsSampled>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = portal.Services.GetRequiredService<LiveUpdates>().Subscribe(m =>
        {
            if (m is MetricsSampled s && s.ResourceId == spec.Id)
                published.TrySetResult(s);
            return Task.CompletedTask;
        });
        await Hypervisor.CreateAsync(spec, Ct);
        var collector = portal.Services.GetRequiredService<MetricsCollector>();

        var baseline = await collector.SampleHostAsync(portal.HostId, Ct);
        // Booting under TCG keeps its one vCPU busy: two seconds later it must show.
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        var sample = await collector.SampleHostAsync(portal.HostId, Ct);
        var point = (await published.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Point;

        Assert.Equal((true, 0), (baseline.Answered, baseline.Points));
        Assert.Equal((true, 1), (sample.Answered, sample.Points));
        Assert.InRange(point.CpuPercent, 1, 100);
        Assert.InRange(point.MemoryUsedBytes, 1, 1024L * 1024 * 1024);
        Assert.Equal(128L * 1024 * 1024, point.MemoryTotalBytes);
        TestContext.Current.TestOutputHelper?.WriteLine($"cpu {point.CpuPercent:F1} %, memory used {point.MemoryUsedBytes >> 20} MiB, disk read {point.DiskReadBytesPerSecond:F0} B/s");
    }

    /// <summary>
    /// The Core services with the libvirt adapter, on a SQLite file of their own, knowing qemu:///system
    /// as a host and the guest about to be made as a tenant's VM on it.
    /// </summary>
    private sealed class CollectorPortal : IAsyncDisposable
    {
        private readonly ServiceProvider provider;
        private readonly string databasePath;

        private CollectorPortal(ServiceProvider provider, string databasePath, Guid hostId)
        {
            (this.provider, this.databasePath, HostId) = (provider, databasePath, hostId);
        }

        public IServiceProvider Services => provider;

        public Guid HostId { get; }

        public static async Task<CollectorPortal> StartAsync(Guid vmId)
        {
            var databasePath = Path.Combine(Path.GetTempPath(), $"virtportal-libvirt-metrics-{Guid.NewGuid():N}.db");
            var configuration = new ConfigurationBuilder().Build();
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddPortalCore(configuration, $"Data Source={databasePath};Pooling=False");
            services.AddPortalLibvirt(configuration);
            var provider = services.BuildServiceProvider();

            await using var db = await provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
            await db.Database.MigrateAsync(Ct);
            var now = DateTimeOffset.UtcNow;
            var tenant = new Tenant { Id = Guid.NewGuid(), Name = "Acme", Quota = TenantQuota.Default, CreatedAt = now };
            var host = new Host { Id = Guid.NewGuid(), Name = "local", Driver = HostDriver.Libvirt, Uri = SystemLibvirtFixture.Uri, DomainType = "qemu", CreatedAt = now };
            db.AddRange(tenant, host);
            db.Resources.Add(new Resource
            {
                Id = vmId, TenantId = tenant.Id, Kind = ResourceKind.Vm, Name = "metrics-probe", VCpus = 1, RamMiB = 128, DiskGiB = 1,
                State = ResourceState.Running, HostId = host.Id, CreatedAt = now, LeaseEndsAt = now.AddDays(1), Version = 1,
            });
            await db.SaveChangesAsync(Ct);
            return new CollectorPortal(provider, databasePath, host.Id);
        }

        public async ValueTask DisposeAsync()
        {
            await provider.DisposeAsync();
            File.Delete(databasePath);
        }
    }
}
