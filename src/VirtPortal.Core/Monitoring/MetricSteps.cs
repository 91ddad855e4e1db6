using System.Globalization;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;

namespace VirtPortal.Core.Monitoring;

/// <summary>
/// A series read at a coarser step than the one it is stored at, for scripts that chart or alert on it: the
/// range's own resolution (the sampling or check interval for the live ranges, the rollup's bucket for the
/// others) is the finest step; a step is a whole multiple of it, no longer than the range. VM figures are
/// averaged over a step, as the rollups average them; a database's size is the last of the step and its
/// sessions the peak, as its rollups keep them.
/// </summary>
public static class MetricSteps
{
    public const string RangeField = "range";
    public const string StepField = "step";

    /// <summary>How far back a range reaches.</summary>
    public static TimeSpan Span(MetricRange range) => range switch
    {
        MetricRange.FifteenMinutes => TimeSpan.FromMinutes(15),
        MetricRange.Hour => TimeSpan.FromHours(1),
        MetricRange.Day => TimeSpan.FromDays(1),
        MetricRange.Week => TimeSpan.FromDays(7),
        _ => throw new ArgumentOutOfRangeException(nameof(range), range, "not a chart range"),
    };

    /// <summary>The step a VM's series of the range is stored at (see <see cref="MetricsQueries.SeriesAsync"/>).</summary>
    public static TimeSpan VmResolution(MetricRange range, TimeSpan interval) => range switch
    {
        MetricRange.FifteenMinutes => interval,
        MetricRange.Hour or MetricRange.Day => MetricRollups.Length(MetricResolution.Minute),
        _ => MetricRollups.Length(MetricResolution.Hour),
    };

    /// <summary>The step a database's series of the range is stored at (see <see cref="DatabaseFigureHistory"/>).</summary>
    public static TimeSpan DatabaseResolution(MetricRange range, TimeSpan checkInterval) =>
        range is MetricRange.FifteenMinutes or MetricRange.Hour ? checkInterval : DatabaseFigureHistory.Bucket;

    /// <summary>The range a query names ("Hour" when it names none); anything else is refused on <see cref="RangeField"/>.</summary>
    public static MetricRange ParseRange(string? range)
    {
        if (string.IsNullOrEmpty(range))
            return MetricRange.Hour;
        if (Enum.TryParse<MetricRange>(range, ignoreCase: false, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(range, out _))
            return parsed;
        throw new PortalValidationException(RangeField, $"The range is one of {string.Join(", ", Enum.GetNames<MetricRange>())}.");
    }

    /// <summary>
    /// The step a query names in seconds, checked against the range's resolution; null (the resolution itself)
    /// when it names none. Anything else is refused on <see cref="StepField"/>, saying which steps there are.
    /// </summary>
    public static TimeSpan? ParseStep(string? step, MetricRange range, TimeSpan resolution)
    {
        if (string.IsNullOrEmpty(step))
            return null;
        var finest = (long)resolution.TotalSeconds;
        var longest = (long)Span(range).TotalSeconds;
        if (!long.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < finest || seconds > longest || seconds % finest != 0)
            throw new PortalValidationException(StepField, string.Create(CultureInfo.InvariantCulture,
                $"The step of the range {range} is a whole number of seconds, a multiple of {finest} from {finest} to {longest}."));
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The points averaged over each step (a step's point is at the start of its step), oldest first.</summary>
    public static IReadOnlyList<MetricPoint> Resample(IReadOnlyList<MetricPoint> points, TimeSpan? step)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (step is not { } length)
            return points;
        return [.. points.GroupBy(p => StartOf(p.At, length)).OrderBy(g => g.Key).Select(g => new MetricPoint(
            g.Key, g.Average(p => p.CpuPercent), (long)g.Average(p => p.MemoryUsedBytes), (long)g.Average(p => p.MemoryTotalBytes),
            g.Average(p => p.DiskReadBytesPerSecond), g.Average(p => p.DiskWriteBytesPerSecond), g.Average(p => p.NetRxBytesPerSecond), g.Average(p => p.NetTxBytesPerSecond)))];
    }

    /// <summary>A database's samples over each step: the last size and the most sessions (the step's sample is at its start), oldest first.</summary>
    public static IReadOnlyList<DatabaseSample> Resample(IReadOnlyList<DatabaseSample> samples, TimeSpan? step)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (step is not { } length)
            return samples;
        return [.. samples.GroupBy(s => StartOf(s.At, length)).OrderBy(g => g.Key)
            .Select(g => new DatabaseSample(g.Key, g.OrderBy(s => s.At).Last().SizeBytes, g.Max(s => s.ActiveConnections)))];
    }

    private static DateTimeOffset StartOf(DateTimeOffset at, TimeSpan step)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % step.Ticks, TimeSpan.Zero);
    }
}
