using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace VirtPortal.Core.Monitoring;

/// <summary>
/// Sums of the current figures of a host's or a tenant's resources: CPU in cores busy (each VM's share
/// times its vCPUs), memory and rates added up, over the resources that gave a point in the last sample.
/// </summary>
public sealed record MetricTotals(
    DateTimeOffset At, int Resources, double CpuCores, int VCpus, long MemoryUsedBytes, long MemoryTotalBytes,
    double DiskReadBytesPerSecond, double DiskWriteBytesPerSecond, double NetRxBytesPerSecond, double NetTxBytesPerSecond)
{
    public static MetricTotals Empty(DateTimeOffset at) => new(at, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public MetricTotals Add(MetricPoint point, int vcpus)
    {
        ArgumentNullException.ThrowIfNull(point);
        return new(
            At, Resources + 1, CpuCores + (point.CpuPercent / 100 * vcpus), VCpus + vcpus,
            MemoryUsedBytes + point.MemoryUsedBytes, MemoryTotalBytes + point.MemoryTotalBytes,
            DiskReadBytesPerSecond + point.DiskReadBytesPerSecond, DiskWriteBytesPerSecond + point.DiskWriteBytesPerSecond,
            NetRxBytesPerSecond + point.NetRxBytesPerSecond, NetTxBytesPerSecond + point.NetTxBytesPerSecond);
    }

    public MetricTotals Add(MetricTotals other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(
            At > other.At ? At : other.At, Resources + other.Resources, CpuCores + other.CpuCores, VCpus + other.VCpus,
            MemoryUsedBytes + other.MemoryUsedBytes, MemoryTotalBytes + other.MemoryTotalBytes,
            DiskReadBytesPerSecond + other.DiskReadBytesPerSecond, DiskWriteBytesPerSecond + other.DiskWriteBytesPerSecond,
            NetRxBytesPerSecond + other.NetRxBytesPerSecond, NetTxBytesPerSecond + other.NetTxBytesPerSecond);
    }
}

/// <summary>A resource's newest point with the names the export labels it by.</summary>
public sealed record LabelledPoint(Guid ResourceId, string TenantName, string ResourceName, MetricPoint Point);

/// <summary>One host's last sample: how long the bulk-stats call and its processing took, and its sums.</summary>
public sealed record HostSample(Guid HostId, string HostName, DateTimeOffset At, TimeSpan Duration, bool Answered, MetricTotals Totals, IReadOnlyDictionary<Guid, MetricTotals> TenantTotals);

/// <summary>
/// What the collector knows now, in memory: each resource's live window and the last sample of each
/// host. The collector writes it; <see cref="MetricsQueries"/> reads it for users (through the access
/// service) and the <c>/metrics</c> export reads it for scrapers (behind its network check).
/// </summary>
public sealed class MetricStore(IOptions<MonitoringOptions> options)
{
    private readonly ConcurrentDictionary<Guid, Series> series = new();
    private readonly ConcurrentDictionary<Guid, HostSample> hosts = new();

    /// <summary>Points per resource window: the live window at the sampling interval, plus one for the edge.</summary>
    public int WindowCapacity => (int)Math.Ceiling(options.Value.LiveWindow / options.Value.Interval) + 1;

    internal void Record(Guid resourceId, Guid hostId, string tenantName, string resourceName, MetricPoint point)
    {
        var entry = series.GetOrAdd(resourceId, _ => new Series(new MetricWindow(WindowCapacity)));
        (entry.HostId, entry.TenantName, entry.ResourceName) = (hostId, tenantName, resourceName);
        entry.Window.Add(point);
    }

    internal void RecordHost(HostSample sample) => hosts[sample.HostId] = sample;

    internal void ForgetHost(Guid hostId) => hosts.TryRemove(hostId, out _);

    /// <summary>Drops the windows of resources that gave no point since <paramref name="before"/> (deleted, long stopped).</summary>
    internal int ForgetIdle(DateTimeOffset before)
    {
        var dropped = 0;
        foreach (var (id, entry) in series)
        {
            if (entry.Window.Latest is not { } latest || latest.At < before)
                dropped += series.TryRemove(id, out _) ? 1 : 0;
        }

        return dropped;
    }

    public IReadOnlyList<MetricPoint> Window(Guid resourceId, DateTimeOffset since) =>
        series.TryGetValue(resourceId, out var entry) ? entry.Window.Since(since) : [];

    public MetricPoint? Latest(Guid resourceId) => series.TryGetValue(resourceId, out var entry) ? entry.Window.Latest : null;

    public HostSample? Host(Guid hostId) => hosts.GetValueOrDefault(hostId);

    public IReadOnlyList<HostSample> Hosts() => [.. hosts.Values.OrderBy(h => h.HostName, StringComparer.Ordinal)];

    /// <summary>A tenant's sums over every host's last sample; null when no host sampled a resource of it.</summary>
    public MetricTotals? Tenant(Guid tenantId)
    {
        MetricTotals? sum = null;
        foreach (var host in hosts.Values)
        {
            if (host.TenantTotals.TryGetValue(tenantId, out var totals))
                sum = sum is null ? totals : sum.Add(totals);
        }

        return sum;
    }

    /// <summary>The newest point of every resource whose host answered its last sample, with names for labels.</summary>
    public IReadOnlyList<LabelledPoint> LatestPoints(DateTimeOffset since) =>
        [.. series.Where(s => hosts.TryGetValue(s.Value.HostId, out var h) && h.Answered)
            .Select(s => (Id: s.Key, Entry: s.Value, Point: s.Value.Window.Latest))
            .Where(s => s.Point is not null && s.Point.At >= since)
            .Select(s => new LabelledPoint(s.Id, s.Entry.TenantName, s.Entry.ResourceName, s.Point!))];

    private sealed class Series(MetricWindow window)
    {
        public MetricWindow Window { get; } = window;

        public Guid HostId { get; set; }

        public string TenantName { get; set; } = "";

        public string ResourceName { get; set; } = "";
    }
}
