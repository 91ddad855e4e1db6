using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Monitoring;

/// <summary>
/// Runs one sampling loop per host, every <see cref="MonitoringOptions.Interval"/>, so a slow or silent
/// host delays only its own points; starts loops for hosts added while the portal runs (a removed
/// host's loop ends by itself) and prunes old rollups once a minute.
/// </summary>
public sealed partial class MetricsMonitor(
    MetricsCollector collector, IDbContextFactory<PortalDbContext> dbFactory, IOptions<MonitoringOptions> options,
    TimeProvider time, ILogger<MetricsMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new Dictionary<Guid, Task>();
        DateTimeOffset? prunedMinute = null;
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        try
        {
            do
            {
                try
                {
                    await StartLoopsAsync(loops, stoppingToken);
                    var minute = MetricRollups.BucketOf(time.GetUtcNow(), MetricResolution.Minute);
                    if (prunedMinute != minute)
                    {
                        await collector.PruneAsync(stoppingToken);
                        prunedMinute = minute;
                    }
                }
                catch (Exception e) when (e is DbUpdateException or DbException)
                {
                    LogFailed(e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally
        {
            try
            {
                await Task.WhenAll(loops.Values);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // The loops stop with the portal.
            }
        }
    }

    private async Task StartLoopsAsync(Dictionary<Guid, Task> loops, CancellationToken ct)
    {
        foreach (var (hostId, ended) in loops.Where(l => l.Value.IsCompleted).ToList())
        {
            // A loop ends when its host was removed, or on a failure nobody expected: then it is logged
            // and the host gets a new loop below, so one bad sample does not stop its metrics for good.
            if (ended.Exception is { } failure)
                LogLoopFailed(failure.GetBaseException(), hostId);
            loops.Remove(hostId);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var hostId in await db.Hosts.AsNoTracking().Select(h => h.Id).ToListAsync(ct))
        {
            if (!loops.ContainsKey(hostId))
                loops[hostId] = RunHostAsync(hostId, ct);
        }
    }

    private async Task RunHostAsync(Guid hostId, CancellationToken ct)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        do
        {
            try
            {
                if (!(await collector.SampleHostAsync(hostId, ct)).HostFound)
                    return;
            }
            catch (Exception e) when (e is DbUpdateException or DbException)
            {
                LogHostFailed(e, hostId);
            }
        }
        while (await timer.WaitForNextTickAsync(ct));
    }

    [LoggerMessage(LogLevel.Warning, "Metrics: a pass over the hosts failed")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(LogLevel.Error, "Metrics: the sampling loop of host {HostId} failed; it is started again")]
    private partial void LogLoopFailed(Exception exception, Guid hostId);

    [LoggerMessage(LogLevel.Warning, "Metrics: sampling host {HostId} failed; the next interval tries again")]
    private partial void LogHostFailed(Exception exception, Guid hostId);
}
