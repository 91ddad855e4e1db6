using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Tests.Monitoring;

public sealed class MetricRatesTests
{
    private static readonly Guid Vm = Guid.Parse("0193a000-0000-7000-8000-000000000001");
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A sample <paramref name="seconds"/> after T0 with the given cumulative counters (2 vCPUs, 1 GiB of which 256 MiB used).</summary>
    private static DomainStats Sample(double seconds, ulong cpuNs, ulong read = 0, ulong write = 0, ulong rx = 0, ulong tx = 0, DomainState state = DomainState.Running, int vcpus = 2) =>
        new(Vm, T0.AddSeconds(seconds), state, cpuNs, vcpus, 1024 * 1024, 1024 * 1024, 1024 * 1024, 256 * 1024, MemoryUsedSource.Guest, read, write, rx, tx);

    public static TheoryData<string, DomainStats, DomainStats, double?> CpuCases() => new()
    {
        { "one of two vCPUs busy for a second", Sample(0, 0), Sample(1, 1_000_000_000), 50 },
        { "both vCPUs busy for five seconds", Sample(0, 7_000_000_000), Sample(5, 17_000_000_000), 100 },
        { "an idle guest", Sample(0, 3_000), Sample(5, 3_000), 0 },
        { "a paused guest uses no CPU", Sample(0, 9_000, state: DomainState.Paused), Sample(5, 9_000, state: DomainState.Paused), 0 },
        { "sampling jitter over 100 % is capped", Sample(0, 0), Sample(1, 2_100_000_000), 100 },
        { "a vCPU count of zero counts as one", Sample(0, 0, vcpus: 0), Sample(2, 1_000_000_000, vcpus: 0), 50 },
        { "CPU time went backwards: the VM restarted, a fresh baseline", Sample(0, 80_000_000_000), Sample(5, 1_000_000_000), null },
        { "only a disk counter went backwards: a fresh baseline", Sample(0, 0, read: 10_000), Sample(5, 1_000_000_000, read: 5), null },
        { "only a network counter went backwards: a fresh baseline", Sample(0, 0, tx: 10_000), Sample(5, 1_000_000_000, tx: 0), null },
        { "no time passed", Sample(5, 0), Sample(5, 1_000), null },
        { "samples out of order", Sample(5, 0), Sample(0, 1_000), null },
        { "the domain is shut off now", Sample(0, 5_000), Sample(5, 0, state: DomainState.Shutoff), null },
        { "the domain was shut off before: it just started", Sample(0, 0, state: DomainState.Shutoff), Sample(5, 2_000_000_000), null },
        { "the domain crashed", Sample(0, 5_000), Sample(5, 6_000, state: DomainState.Crashed), null },
    };

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_is_the_share_of_the_vms_vcpus_and_a_counter_going_backwards_gives_no_point(string because, DomainStats previous, DomainStats current, double? cpuPercent)
    {
        var point = MetricRates.Between(previous, current);

        Assert.True(cpuPercent is null ? point is null : point is not null, because);
        if (cpuPercent is { } expected)
            Assert.Equal(expected, point!.CpuPercent, precision: 6);
    }

    [Fact]
    public void Disk_and_network_are_bytes_per_second_over_the_interval()
    {
        var point = MetricRates.Between(Sample(0, 0, 1_000, 2_000, 3_000, 4_000), Sample(5, 0, 6_000, 2_500, 53_000, 4_000))!;

        Assert.Equal((1_000d, 100d, 10_000d, 0d), (point.DiskReadBytesPerSecond, point.DiskWriteBytesPerSecond, point.NetRxBytesPerSecond, point.NetTxBytesPerSecond));
        Assert.Equal(T0.AddSeconds(5), point.At);
    }

    public static TheoryData<string, ulong?, ulong, ulong, long> MemoryCases() => new()
    {
        { "the guest says what it has", 900_000, 1_048_576, 1_048_576, 900_000L * 1024 },
        { "no guest figure: the balloon size", null, 524_288, 1_048_576, 524_288L * 1024 },
        { "no balloon either: the maximum", null, 0, 1_048_576, 1_048_576L * 1024 },
    };

    [Theory]
    [MemberData(nameof(MemoryCases))]
    public void Memory_is_in_bytes_and_its_total_is_what_the_guest_can_use(string because, ulong? availableKiB, ulong currentKiB, ulong maxKiB, long totalBytes)
    {
        var previous = Sample(0, 0);
        var current = Sample(5, 0) with { MemoryAvailableKiB = availableKiB, MemoryCurrentKiB = currentKiB, MemoryMaxKiB = maxKiB, MemoryUsedKiB = 100_000 };

        var point = MetricRates.Between(previous, current)!;

        Assert.True(point.MemoryTotalBytes == totalBytes, because);
        Assert.Equal(100_000L * 1024, point.MemoryUsedBytes);
    }

    [Fact]
    public void Samples_of_two_domains_are_refused()
    {
        Assert.Throws<ArgumentException>(() => MetricRates.Between(Sample(0, 0), Sample(5, 0) with { Id = Guid.NewGuid() }));
    }
}
