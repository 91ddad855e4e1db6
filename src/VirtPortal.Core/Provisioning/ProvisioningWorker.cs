using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VirtPortal.Core.Provisioning;

/// <summary>
/// The hosted worker: runs queued operations one after another, looks at the queue again after
/// <see cref="ProvisioningOptions.IdleDelay"/> when it is empty. Several workers (processes) may run;
/// leases keep them off each other's operations.
/// </summary>
public sealed partial class ProvisioningWorker(
    ProvisioningService provisioning, IOptions<ProvisioningOptions> options, TimeProvider time, ILogger<ProvisioningWorker> logger) : BackgroundService
{
    // Unique per worker instance, so leases tell this process's work from a crashed predecessor's.
    private readonly string workerId = Truncate($"{Environment.ProcessId}/{Guid.NewGuid():N}/{Environment.MachineName}", 120);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            bool worked;
            try
            {
                worked = await provisioning.RunOnceAsync(workerId, stoppingToken);
            }
            catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
            {
                // The database was busy or briefly unavailable; the operation's lease makes it safe to try again.
                LogQueueError(e);
                worked = false;
            }

            if (!worked)
                await Task.Delay(options.Value.IdleDelay, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static string Truncate(string value, int length) => value.Length > length ? value[..length] : value;

    [LoggerMessage(LogLevel.Warning, "The provisioning queue could not be read")]
    private partial void LogQueueError(Exception exception);
}
