using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VirtPortal.Core.Api;

/// <summary>Once an hour, deletes the idempotency keys older than their 24 hours.</summary>
public sealed partial class IdempotencyPurge(IdempotencyStore store, TimeProvider time, ILogger<IdempotencyPurge> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var purged = await store.PurgeAsync(stoppingToken);
                if (purged > 0)
                    LogPurged(purged);
            }
            catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
            {
                // A database hiccup must not end the purge; the next tick tries again.
                LogFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Information, "Purged {Count} idempotency keys older than 24 hours")]
    private partial void LogPurged(int count);

    [LoggerMessage(LogLevel.Warning, "Purging old idempotency keys failed")]
    private partial void LogFailed(Exception exception);
}
