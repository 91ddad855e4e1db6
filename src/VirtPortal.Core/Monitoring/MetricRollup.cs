namespace VirtPortal.Core.Monitoring;

public enum MetricResolution
{
    Minute = 0,
    Hour = 1,
}

/// <summary>
/// A resource's figures averaged over one minute or one hour, stored for the history charts. The key is
/// (resource, resolution, bucket start); <see cref="Samples"/> weighs it when minutes become an hour.
/// </summary>
public sealed class MetricRollup
{
    public Guid ResourceId { get; set; }

    public MetricResolution Resolution { get; set; }

    public DateTimeOffset BucketStart { get; set; }

    public int Samples { get; set; }

    public double CpuPercent { get; set; }

    public long MemoryUsedBytes { get; set; }

    public long MemoryTotalBytes { get; set; }

    public double DiskReadBytesPerSecond { get; set; }

    public double DiskWriteBytesPerSecond { get; set; }

    public double NetRxBytesPerSecond { get; set; }

    public double NetTxBytesPerSecond { get; set; }

    public MetricPoint ToPoint() => new(
        BucketStart, CpuPercent, MemoryUsedBytes, MemoryTotalBytes,
        DiskReadBytesPerSecond, DiskWriteBytesPerSecond, NetRxBytesPerSecond, NetTxBytesPerSecond);
}

/// <summary>Buckets and averages: how points become minute rollups and minutes become hours.</summary>
public static class MetricRollups
{
    public static TimeSpan Length(MetricResolution resolution) =>
        resolution == MetricResolution.Minute ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(1);

    /// <summary>The start of the bucket that holds <paramref name="at"/>, in UTC.</summary>
    public static DateTimeOffset BucketOf(DateTimeOffset at, MetricResolution resolution)
    {
        var ticks = Length(resolution).Ticks;
        var utc = at.UtcTicks;
        return new DateTimeOffset(utc - (utc % ticks), TimeSpan.Zero);
    }

    /// <summary>
    /// The average of <paramref name="parts"/> (points, or rollups with their sample counts as weights)
    /// as one rollup of <paramref name="bucketStart"/>; null when there is nothing to average.
    /// </summary>
    public static MetricRollup? Average(Guid resourceId, MetricResolution resolution, DateTimeOffset bucketStart, IEnumerable<(MetricPoint Point, int Weight)> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var list = parts.Where(p => p.Weight > 0).ToList();
        var total = list.Sum(p => p.Weight);
        if (total == 0)
            return null;
        double Mean(Func<MetricPoint, double> figure) => list.Sum(p => figure(p.Point) * p.Weight) / total;
        return new MetricRollup
        {
            ResourceId = resourceId,
            Resolution = resolution,
            BucketStart = bucketStart,
            Samples = total,
            CpuPercent = Mean(p => p.CpuPercent),
            MemoryUsedBytes = (long)Math.Round(Mean(p => p.MemoryUsedBytes)),
            MemoryTotalBytes = (long)Math.Round(Mean(p => p.MemoryTotalBytes)),
            DiskReadBytesPerSecond = Mean(p => p.DiskReadBytesPerSecond),
            DiskWriteBytesPerSecond = Mean(p => p.DiskWriteBytesPerSecond),
            NetRxBytesPerSecond = Mean(p => p.NetRxBytesPerSecond),
            NetTxBytesPerSecond = Mean(p => p.NetTxBytesPerSecond),
        };
    }
}
