using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;
using VirtPortal.Core.Monitoring;

namespace VirtPortal.Core.Databases;

/// <summary>
/// A database's figures over five minutes, stored for the size and connections charts: the last size
/// the server gave in the bucket and the most sessions it counted. Peaks, not averages, because a
/// connection limit is hit by a peak. The key is (database, bucket start).
/// </summary>
public sealed class DatabaseFigureRollup
{
    public Guid ResourceId { get; set; }

    public DateTimeOffset BucketStart { get; set; }

    public int Samples { get; set; }

    public long SizeBytes { get; set; }

    public int PeakConnections { get; set; }

    public DatabaseSample ToSample() => new(BucketStart, SizeBytes, PeakConnections);
}

/// <summary>
/// What the database checks measured: each database's samples of the last hour in memory (the live
/// chart), and five-minute rollups in the portal's database for the day and week charts, kept
/// <see cref="Retention"/>. <see cref="DatabaseHealth"/> writes it; <see cref="DatabaseService"/> reads
/// it for users, through the access service.
/// </summary>
public sealed class DatabaseFigureHistory
{
    public static readonly TimeSpan Bucket = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan LiveWindow = TimeSpan.FromHours(1);
    public static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    private readonly ConcurrentDictionary<Guid, Samples> windows = new();

    /// <summary>The last figures of a database, or null before its first check (or after its window was forgotten).</summary>
    public DatabaseSample? Latest(Guid resourceId) => windows.TryGetValue(resourceId, out var window) ? window.Latest : null;

    /// <summary>The samples since <paramref name="since"/> that are still in memory, oldest first.</summary>
    public IReadOnlyList<DatabaseSample> Window(Guid resourceId, DateTimeOffset since) =>
        windows.TryGetValue(resourceId, out var window) ? window.Since(since) : [];

    public static DateTimeOffset BucketOf(DateTimeOffset at)
    {
        var utc = at.UtcTicks;
        return new DateTimeOffset(utc - (utc % Bucket.Ticks), TimeSpan.Zero);
    }

    /// <summary>
    /// Keeps one check's samples: in memory at once, and in their five-minute rollups through
    /// <paramref name="db"/>, saved with the rest of the check. Rollups older than the retention go too.
    /// </summary>
    internal async Task RecordAsync(PortalDbContext db, IReadOnlyList<(Guid ResourceId, DatabaseSample Sample)> samples, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var (id, sample) in samples)
            windows.GetOrAdd(id, _ => new Samples()).Add(sample, LiveWindow);

        foreach (var bucket in samples.GroupBy(s => BucketOf(s.Sample.At)))
        {
            var ids = bucket.Select(s => s.ResourceId).ToList();
            var rows = await db.DatabaseFigureRollups.Where(r => r.BucketStart == bucket.Key && ids.Contains(r.ResourceId)).ToDictionaryAsync(r => r.ResourceId, ct);
            foreach (var (id, sample) in bucket)
            {
                if (!rows.TryGetValue(id, out var row))
                {
                    row = new DatabaseFigureRollup { ResourceId = id, BucketStart = bucket.Key };
                    db.Add(row);
                    rows[id] = row;
                }

                row.Samples++;
                row.SizeBytes = sample.SizeBytes;
                row.PeakConnections = Math.Max(row.PeakConnections, sample.ActiveConnections);
            }
        }

        var expired = now - Retention;
        await db.DatabaseFigureRollups.Where(r => r.BucketStart < expired).ExecuteDeleteAsync(ct);
        foreach (var (id, window) in windows)
        {
            if (window.Latest is not { } latest || latest.At < now - LiveWindow)
                windows.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// The chart of <paramref name="range"/>, oldest first: the last fifteen minutes and the last hour at
    /// the check's own interval from memory (an hour the portal was not up for comes from the rollups),
    /// the last day and week as five-minute rollups (a rollup's time is the start of its bucket).
    /// </summary>
    internal async Task<IReadOnlyList<DatabaseSample>> SeriesAsync(PortalDbContext db, Guid resourceId, MetricRange range, DateTimeOffset now, CancellationToken ct)
    {
        var span = range switch
        {
            MetricRange.FifteenMinutes => TimeSpan.FromMinutes(15),
            MetricRange.Hour => TimeSpan.FromHours(1),
            MetricRange.Day => TimeSpan.FromDays(1),
            MetricRange.Week => TimeSpan.FromDays(7),
            _ => throw new ArgumentOutOfRangeException(nameof(range), range, "not a chart range"),
        };
        var since = now - span;
        var recent = span <= LiveWindow ? Window(resourceId, since) : [];
        if (range == MetricRange.FifteenMinutes)
            return recent;
        // Rollups end where memory begins: the bucket of the first sample in memory is still being filled.
        var until = recent.Count > 0 ? BucketOf(recent[0].At) : DateTimeOffset.MaxValue;
        var from = BucketOf(since);
        var rows = await db.DatabaseFigureRollups.AsNoTracking()
            .Where(r => r.ResourceId == resourceId && r.BucketStart >= from && r.BucketStart < until)
            .OrderBy(r => r.BucketStart).ToListAsync(ct);
        return [.. rows.Select(r => r.ToSample()), .. recent];
    }

    private sealed class Samples
    {
        private readonly Queue<DatabaseSample> samples = new();

        public DatabaseSample? Latest { get; private set; }

        public void Add(DatabaseSample sample, TimeSpan keep)
        {
            lock (samples)
            {
                if (Latest is { } last && sample.At <= last.At)
                    return;
                samples.Enqueue(sample);
                Latest = sample;
                while (samples.Peek().At < sample.At - keep)
                    samples.Dequeue();
            }
        }

        public IReadOnlyList<DatabaseSample> Since(DateTimeOffset since)
        {
            lock (samples)
                return [.. samples.Where(s => s.At >= since)];
        }
    }
}
