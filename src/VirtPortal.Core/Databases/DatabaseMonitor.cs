using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VirtPortal.Core.Databases;

/// <summary>Runs <see cref="DatabaseHealth.CheckAsync"/> and the backups' retention every <see cref="DatabaseOptions.CheckInterval"/>.</summary>
public sealed partial class DatabaseMonitor(DatabaseHealth health, DatabaseBackupRetention retention, IOptions<DatabaseOptions> options, TimeProvider time, ILogger<DatabaseMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await health.CheckAsync(stoppingToken);
                    await retention.PruneAsync(stoppingToken);
                }
                catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException)
                {
                    LogFailed(e);
                }

                await Task.Delay(options.Value.CheckInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The portal is stopping.
        }
    }

    [LoggerMessage(LogLevel.Warning, "A database check failed; the next one follows on schedule")]
    private partial void LogFailed(Exception exception);
}
