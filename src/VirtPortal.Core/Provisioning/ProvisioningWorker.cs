using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Live;

namespace VirtPortal.Core.Provisioning;

/// <summary>
/// The hosted worker: runs queued operations one after another. When the queue is empty it waits for
/// a change published in this process (an approval, an action, a restore: each queues its operation
/// before it publishes) or for <see cref="ProvisioningOptions.IdleDelay"/>, which catches retries that
/// come due and work queued by other processes. Several workers (processes) may run; leases keep them
/// off each other's operations.
/// </summary>
public sealed partial class ProvisioningWorker(
    ProvisioningService provisioning, LiveUpdates live, IOptions<ProvisioningOptions> options, TimeProvider time, ILogger<ProvisioningWorker> logger) : BackgroundService
{
    private TaskCompletionSource wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Unique per worker instance, so leases tell this process's work from a crashed predecessor's.
    private readonly string workerId = Truncate($"{Environment.ProcessId}/{Guid.NewGuid():N}/{Environment.MachineName}", 120);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = live.Subscribe(message =>
        {
            if (message is RequestChanged or ResourceChanged)
                Volatile.Read(ref wake).TrySetResult();
            return Task.CompletedTask;
        });
        while (!stoppingToken.IsCancellationRequested)
        {
            // A fresh signal before looking at the queue, so that work queued while we look is not missed.
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref wake, signal);
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
                await Task.WhenAny(signal.Task, Task.Delay(options.Value.IdleDelay, time, stoppingToken));
        }
    }

    private static string Truncate(string value, int length) => value.Length > length ? value[..length] : value;

    [LoggerMessage(LogLevel.Warning, "The provisioning queue could not be read")]
    private partial void LogQueueError(Exception exception);
}
