using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Monitoring;

/// <summary>What one sample of one host did.</summary>
public sealed record HostSampleResult(bool HostFound, bool Answered, int Points, int MinuteRollups, int HourRollups);

/// <summary>
/// Samples one host at a time: one bulk-stats call, a rate per portal VM from the previous sample,
/// one <see cref="MetricsSampled"/> per VM on the live bus, the host's and its tenants' sums, and the
/// rollups of finished minutes and hours in the database. Domains that are not portal resources are
/// passed over. A host that does not answer is marked Unreachable, as the reconciler marks it
/// (<see cref="HostReachability"/>), and its VMs get no points until it answers again.
/// Each host is sampled by one loop at a time (<see cref="MetricsMonitor"/>), so a host's progress
/// needs no lock.
/// </summary>
public sealed partial class MetricsCollector(
    IDbContextFactory<PortalDbContext> dbFactory, HypervisorRegistry registry, LiveUpdates live, MetricStore store,
    IOptions<MonitoringOptions> options, TimeProvider time, ILogger<MetricsCollector> logger)
{
    private static readonly Actor Self = new("metrics-collector", "metrics collector", new HashSet<string>());

    private readonly ConcurrentDictionary<Guid, HostProgress> progress = new();

    public async Task<HostSampleResult> SampleHostAsync(Guid hostId, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var host = await db.Hosts.SingleOrDefaultAsync(h => h.Id == hostId, ct);
        if (host is null)
        {
            progress.TryRemove(hostId, out _);
            store.ForgetHost(hostId);
            return new HostSampleResult(false, false, 0, 0, 0);
        }

        var state = progress.GetOrAdd(hostId, _ => new HostProgress());
        var resources = await (
            from r in db.Resources.AsNoTracking()
            join t in db.Tenants.AsNoTracking() on r.TenantId equals t.Id
            where r.HostId == hostId && r.Kind == ResourceKind.Vm && r.State != ResourceState.Deleted && r.State != ResourceState.Failed
            select new Sampled(r.Id, r.TenantId, t.Name, r.Name)).ToDictionaryAsync(r => r.Id, ct);

        var stats = await ReadStatsAsync(db, host, ct);
        var now = time.GetUtcNow();
        var totals = MetricTotals.Empty(now);
        var tenants = new Dictionary<Guid, MetricTotals>();
        var points = 0;
        if (stats is null)
        {
            // The next answer starts from fresh baselines: the host may have restarted meanwhile.
            state.Baselines.Clear();
        }
        else
        {
            if (host.State == HostState.Unreachable && HostReachability.Answered(host, now))
            {
                await db.SaveChangesAsync(ct);
                live.Publish(new HostChanged(host.Id));
            }

            var seen = new HashSet<Guid>();
            foreach (var sample in stats)
            {
                if (!resources.TryGetValue(sample.Id, out var resource))
                    continue;
                seen.Add(sample.Id);
                var previous = state.Baselines.GetValueOrDefault(sample.Id);
                state.Baselines[sample.Id] = sample;
                if (previous is null || MetricRates.Between(previous, sample) is not { } point)
                    continue;
                store.Record(resource.Id, host.Id, resource.TenantName, resource.Name, point);
                Accumulate(state, resource.Id, point);
                totals = totals.Add(point, sample.VCpus);
                tenants[resource.TenantId] = tenants.GetValueOrDefault(resource.TenantId, MetricTotals.Empty(now)).Add(point, sample.VCpus);
                live.Publish(new MetricsSampled(resource.TenantId, resource.Id, point));
                points++;
            }

            foreach (var gone in state.Baselines.Keys.Where(id => !seen.Contains(id)).ToList())
                state.Baselines.Remove(gone);
        }

        var minutes = await WriteMinutesAsync(db, state, now, ct);
        var hours = await WriteHoursAsync(db, state, [.. resources.Keys], now, ct);
        store.RecordHost(new HostSample(host.Id, host.Name, now, time.GetElapsedTime(started), stats is not null, totals, tenants));
        live.Publish(new HostSampled(host.Id, now));
        return new HostSampleResult(true, stats is not null, points, minutes, hours);
    }

    /// <summary>Deletes rollups past their retention and forgets live windows that got no point for a whole window.</summary>
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var minuteCutoff = now - options.Value.MinuteRetention;
        var hourCutoff = now - options.Value.HourRetention;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deleted = await db.MetricRollups
            .Where(r => (r.Resolution == MetricResolution.Minute && r.BucketStart < minuteCutoff)
                        || (r.Resolution == MetricResolution.Hour && r.BucketStart < hourCutoff))
            .ExecuteDeleteAsync(ct);
        store.ForgetIdle(now - options.Value.LiveWindow);
        return deleted;
    }

    /// <summary>The host's counters, or null when it did not answer (then it is marked Unreachable).</summary>
    private async Task<IReadOnlyList<DomainStats>?> ReadStatsAsync(PortalDbContext db, Host host, CancellationToken ct)
    {
        var timeoutAfter = options.Value.SampleTimeout;
        string error;
        try
        {
            using var timeout = new CancellationTokenSource(timeoutAfter, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ct);
            return await registry.For(host).GetAllStatsAsync(either.Token);
        }
        catch (HypervisorException e) when (e is HypervisorNotFoundException or HypervisorConflictException)
        {
            // The host answered, with an error about a domain on it: it stays reachable; no points this time.
            LogStatsFailed(e, host.Name);
            return [];
        }
        catch (HypervisorException e)
        {
            error = e.Message;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"The host did not answer a stats call within {timeoutAfter.TotalSeconds:0.#} s.";
        }

        LogUnreachable(host.Name, error);
        if (HostReachability.Failed(db, time, Self, host, error))
        {
            await db.SaveChangesAsync(ct);
            live.Publish(new HostChanged(host.Id));
        }

        return null;
    }

    private static void Accumulate(HostProgress state, Guid resourceId, MetricPoint point)
    {
        var bucket = MetricRollups.BucketOf(point.At, MetricResolution.Minute);
        if (!state.Minutes.TryGetValue(resourceId, out var minute) || minute.Start != bucket)
        {
            if (minute is not null)
                state.Finished.Add((resourceId, minute));
            minute = new MinuteBucket(bucket);
            state.Minutes[resourceId] = minute;
        }

        minute.Points.Add(point);
    }

    /// <summary>Writes the minutes that ended before <paramref name="now"/>, for VMs that gave a point since and for those that stopped.</summary>
    private static async Task<int> WriteMinutesAsync(PortalDbContext db, HostProgress state, DateTimeOffset now, CancellationToken ct)
    {
        var current = MetricRollups.BucketOf(now, MetricResolution.Minute);
        foreach (var (id, minute) in state.Minutes.Where(m => m.Value.Start < current).ToList())
        {
            state.Finished.Add((id, minute));
            state.Minutes.Remove(id);
        }

        if (state.Finished.Count == 0)
            return 0;
        var rows = state.Finished
            .Select(f => MetricRollups.Average(f.ResourceId, MetricResolution.Minute, f.Minute.Start, f.Minute.Points.Select(p => (p, 1))))
            .OfType<MetricRollup>().ToList();
        // Another portal process sampling the same host may have written a minute already.
        var ids = rows.Select(r => r.ResourceId).Distinct().ToList();
        var earliest = rows.Min(r => r.BucketStart);
        var existing = (await db.MetricRollups.AsNoTracking()
            .Where(r => r.Resolution == MetricResolution.Minute && ids.Contains(r.ResourceId) && r.BucketStart >= earliest)
            .Select(r => new { r.ResourceId, r.BucketStart }).ToListAsync(ct))
            .Select(r => (r.ResourceId, r.BucketStart)).ToHashSet();
        rows.RemoveAll(r => existing.Contains((r.ResourceId, r.BucketStart)));
        db.MetricRollups.AddRange(rows);
        await db.SaveChangesAsync(ct);
        state.Finished.Clear();
        return rows.Count;
    }

    /// <summary>
    /// Once per hour, averages the finished hours' minute rollups (weighted by samples) into hourly ones.
    /// After a start it looks back over the whole minute retention, so hours that finished while the
    /// portal was down are rolled up too.
    /// </summary>
    private async Task<int> WriteHoursAsync(PortalDbContext db, HostProgress state, List<Guid> resourceIds, DateTimeOffset now, CancellationToken ct)
    {
        var current = MetricRollups.BucketOf(now, MetricResolution.Hour);
        if (state.HoursRolledUntil >= current || resourceIds.Count == 0)
            return 0;
        var from = state.HoursRolledUntil ?? MetricRollups.BucketOf(now - options.Value.MinuteRetention, MetricResolution.Hour);
        var minutes = await db.MetricRollups.AsNoTracking()
            .Where(r => r.Resolution == MetricResolution.Minute && resourceIds.Contains(r.ResourceId) && r.BucketStart >= from && r.BucketStart < current)
            .ToListAsync(ct);
        var done = (await db.MetricRollups.AsNoTracking()
            .Where(r => r.Resolution == MetricResolution.Hour && resourceIds.Contains(r.ResourceId) && r.BucketStart >= from && r.BucketStart < current)
            .Select(r => new { r.ResourceId, r.BucketStart }).ToListAsync(ct))
            .Select(r => (r.ResourceId, r.BucketStart)).ToHashSet();
        var rows = minutes
            .GroupBy(m => (m.ResourceId, Hour: MetricRollups.BucketOf(m.BucketStart, MetricResolution.Hour)))
            .Where(g => !done.Contains(g.Key))
            .Select(g => MetricRollups.Average(g.Key.ResourceId, MetricResolution.Hour, g.Key.Hour, g.Select(m => (m.ToPoint(), m.Samples))))
            .OfType<MetricRollup>().ToList();
        db.MetricRollups.AddRange(rows);
        await db.SaveChangesAsync(ct);
        state.HoursRolledUntil = current;
        return rows.Count;
    }

    [LoggerMessage(LogLevel.Warning, "Metrics: host {Host} did not answer its stats call: {Error}")]
    private partial void LogUnreachable(string host, string error);

    [LoggerMessage(LogLevel.Warning, "Metrics: host {Host} answered its stats call with an error")]
    private partial void LogStatsFailed(Exception exception, string host);

    private sealed record Sampled(Guid Id, Guid TenantId, string TenantName, string Name);

    private sealed class MinuteBucket(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;

        public List<MetricPoint> Points { get; } = [];
    }

    private sealed class HostProgress
    {
        public Dictionary<Guid, DomainStats> Baselines { get; } = [];

        public Dictionary<Guid, MinuteBucket> Minutes { get; } = [];

        public List<(Guid ResourceId, MinuteBucket Minute)> Finished { get; } = [];

        public DateTimeOffset? HoursRolledUntil { get; set; }
    }
}
