using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>The test driver's stats hold only state.*, so the parsing of QEMU's counters is tested on values.</summary>
public sealed class DomainStatsReaderTests
{
    [Fact]
    public void Counters_are_summed_over_disks_and_nics_and_memory_comes_from_the_guest()
    {
        var values = new Dictionary<string, ulong>
        {
            ["state.state"] = 1, ["cpu.time"] = 5_000_000, ["vcpu.current"] = 2,
            ["balloon.current"] = 262_144, ["balloon.maximum"] = 262_144,
            ["balloon.available"] = 250_000, ["balloon.unused"] = 200_000, ["balloon.rss"] = 190_000,
            ["block.count"] = 2, ["block.0.rd.bytes"] = 10, ["block.1.rd.bytes"] = 5, ["block.0.wr.bytes"] = 7,
            ["net.count"] = 1, ["net.0.rx.bytes"] = 100, ["net.0.tx.bytes"] = 50,
        };
        var id = Guid.NewGuid();
        var at = DateTimeOffset.UnixEpoch;

        var stats = DomainStatsReader.FromValues(id, at, values);

        Assert.Equal(new DomainStats(id, at, DomainState.Running, 5_000_000, 2, 262_144, 262_144, 250_000, 50_000, MemoryUsedSource.Guest, 15, 7, 100, 50), stats);
    }

    [Fact]
    public void Without_guest_memory_stats_the_resident_set_is_used()
    {
        var values = new Dictionary<string, ulong> { ["balloon.maximum"] = 262_144, ["balloon.rss"] = 190_000 };

        var stats = DomainStatsReader.FromValues(Guid.NewGuid(), DateTimeOffset.UnixEpoch, values);

        Assert.Equal((190_000UL, MemoryUsedSource.ResidentSet, 262_144UL), (stats.MemoryUsedKiB, stats.MemoryUsedSource, stats.MemoryMaxKiB));
    }

    [Fact]
    public void Only_state_as_the_test_driver_gives_it_reports_no_memory_and_zero_counters()
    {
        var values = new Dictionary<string, ulong> { ["state.state"] = 3, ["state.reason"] = 0 };

        var stats = DomainStatsReader.FromValues(Guid.NewGuid(), DateTimeOffset.UnixEpoch, values);

        Assert.Equal((DomainState.Shutoff, MemoryUsedSource.None, 0UL, 0UL), (stats.State, stats.MemoryUsedSource, stats.MemoryUsedKiB, stats.CpuTimeNs));
    }
}
