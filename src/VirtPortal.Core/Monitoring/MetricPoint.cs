namespace VirtPortal.Core.Monitoring;

/// <summary>
/// One sample of a VM's figures over the interval that ended at <see cref="At"/>: CPU as a share of its
/// vCPUs (0–100), memory in bytes, disk and network as bytes per second. The same shape serves a live
/// point, a minute rollup and an hourly rollup (averages over the bucket).
/// </summary>
public sealed record MetricPoint(
    DateTimeOffset At,
    double CpuPercent,
    long MemoryUsedBytes,
    long MemoryTotalBytes,
    double DiskReadBytesPerSecond,
    double DiskWriteBytesPerSecond,
    double NetRxBytesPerSecond,
    double NetTxBytesPerSecond);

/// <summary>The chart ranges: the live window (full resolution, in memory), then minute and hourly rollups.</summary>
public enum MetricRange
{
    FifteenMinutes,
    Hour,
    Day,
    Week,
}
