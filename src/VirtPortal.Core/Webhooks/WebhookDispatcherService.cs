using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Runs the dispatcher: a pass at start (what a stopped portal left pending goes out now), then one whenever a
/// commit wrote outbox rows (<see cref="WebhookSignal"/>), when the next retry is due, or at the poll interval;
/// and once an hour, the purge of what is older than the retention.
/// </summary>
public sealed partial class WebhookDispatcherService(WebhookDispatcher dispatcher, WebhookSignal signal, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcherService> logger)
    : BackgroundService
{
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var purged = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.PollInterval;
            try
            {
                if (time.GetUtcNow() - purged >= PurgeInterval)
                {
                    await dispatcher.PurgeAsync(stoppingToken);
                    purged = time.GetUtcNow();
                }

                await dispatcher.RunOnceAsync(stoppingToken);
                if (await dispatcher.NextDueAsync(stoppingToken) is { } next)
                    wait = TimeSpan.FromTicks(Math.Clamp((next - time.GetUtcNow()).Ticks, TimeSpan.FromMilliseconds(50).Ticks, wait.Ticks));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
            {
                // A busy database or a race with another portal's pass: the next pass tries again.
                LogPassFailed(e);
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                LogPassFailed(e);
            }

            await signal.WaitAsync(wait, stoppingToken);
        }
    }

    [LoggerMessage(LogLevel.Warning, "A webhook dispatch pass failed; the next one tries again")]
    private partial void LogPassFailed(Exception exception);
}
