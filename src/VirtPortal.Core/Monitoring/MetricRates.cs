using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Monitoring;

/// <summary>
/// Turns two samples of one domain's cumulative counters into a <see cref="MetricPoint"/>. Counters only
/// grow while the domain's process lives; one that went backwards means a restart (or a counter reset,
/// a disk or interface removed), so the pair gives no point and the newer sample is the fresh baseline:
/// a rate is never negative and never spans two processes.
/// </summary>
public static class MetricRates
{
    /// <summary>
    /// The point for the interval from <paramref name="previous"/> to <paramref name="current"/>, or null
    /// when the pair gives none: the domain is not running (or paused) in both, no time passed, or a
    /// counter went backwards. CPU is the share of the domain's vCPUs (0–100; an idle paused domain is 0).
    /// </summary>
    public static MetricPoint? Between(DomainStats previous, DomainStats current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        if (previous.Id != current.Id)
            throw new ArgumentException("Rates come from two samples of the same domain.", nameof(current));
        var seconds = (current.At - previous.At).TotalSeconds;
        if (seconds <= 0 || !HasProcess(previous.State) || !HasProcess(current.State))
            return null;
        if (current.CpuTimeNs < previous.CpuTimeNs || current.DiskReadBytes < previous.DiskReadBytes
            || current.DiskWriteBytes < previous.DiskWriteBytes || current.NetRxBytes < previous.NetRxBytes
            || current.NetTxBytes < previous.NetTxBytes)
            return null;

        var cpu = (current.CpuTimeNs - previous.CpuTimeNs) / (seconds * 1e9 * Math.Max(1, current.VCpus)) * 100;
        return new MetricPoint(
            current.At,
            // Sampling jitter (the host stamps the counters, we stamp the time) can push a busy VM a hair over.
            Math.Min(cpu, 100),
            (long)current.MemoryUsedKiB * 1024,
            (long)(current.MemoryAvailableKiB ?? (current.MemoryCurrentKiB > 0 ? current.MemoryCurrentKiB : current.MemoryMaxKiB)) * 1024,
            (current.DiskReadBytes - previous.DiskReadBytes) / seconds,
            (current.DiskWriteBytes - previous.DiskWriteBytes) / seconds,
            (current.NetRxBytes - previous.NetRxBytes) / seconds,
            (current.NetTxBytes - previous.NetTxBytes) / seconds);
    }

    /// <summary>Running or paused: a QEMU process exists and its counters are the same ones as before.</summary>
    public static bool HasProcess(DomainState state) => state is DomainState.Running or DomainState.Paused;
}
