namespace VirtPortal.Core.Monitoring;

/// <summary>
/// A resource's newest full-resolution points, in a ring buffer of fixed capacity: memory per resource
/// is bounded whatever the uptime, and the oldest point is overwritten by the newest.
/// </summary>
public sealed class MetricWindow
{
    private readonly MetricPoint?[] points;
    private readonly Lock gate = new();
    private int next;
    private int count;

    public MetricWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        points = new MetricPoint?[capacity];
    }

    public int Capacity => points.Length;

    public int Count
    {
        get
        {
            lock (gate)
                return count;
        }
    }

    public MetricPoint? Latest
    {
        get
        {
            lock (gate)
                return count == 0 ? null : points[(next - 1 + points.Length) % points.Length];
        }
    }

    public void Add(MetricPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        lock (gate)
        {
            points[next] = point;
            next = (next + 1) % points.Length;
            count = Math.Min(count + 1, points.Length);
        }
    }

    /// <summary>The points at or after <paramref name="since"/>, oldest first.</summary>
    public IReadOnlyList<MetricPoint> Since(DateTimeOffset since)
    {
        lock (gate)
        {
            var result = new List<MetricPoint>(count);
            for (var i = 0; i < count; i++)
            {
                var point = points[(next - count + i + points.Length) % points.Length]!;
                if (point.At >= since)
                    result.Add(point);
            }

            return result;
        }
    }
}
