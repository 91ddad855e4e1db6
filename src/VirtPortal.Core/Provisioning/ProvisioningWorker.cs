using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Live;

namespace VirtPortal.Core.Provisioning;

/// <summary>
/// The hosted worker. At start-up it takes back what an earlier process of this machine left leased
/// (that process is gone, so its leases need not run out first). Then it runs queued operations
/// concurrently: it claims while claims succeed (the claim itself keeps one operation per resource and
/// at most <see cref="ProvisioningOptions.MaxConcurrentPerHost"/> per host), and looks again when an
/// operation ends, when a change published in this process may have queued work (an approval, an
/// action, a restore: each queues its operation before it publishes), or after
/// <see cref="ProvisioningOptions.IdleDelay"/>, which catches retries that come due and work queued by
/// other processes. Several workers (processes) may run; leases keep them off each other's operations.
/// </summary>
public sealed partial class ProvisioningWorker(
    ProvisioningService provisioning, LiveUpdates live, IOptions<ProvisioningOptions> options, TimeProvider time, ILogger<ProvisioningWorker> logger) : BackgroundService
{
    /// <summary>A ceiling for one process whatever the number of hosts; the per-host limit is the one that bites.</summary>
    private const int MaxInFlight = 64;

    /// <summary>How often, after start-up, the worker looks for leases of dead processes of its machine.</summary>
    private static readonly TimeSpan ReclaimInterval = TimeSpan.FromSeconds(30);

    private TaskCompletionSource wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly WorkerIdentity identity = WorkerIdentity.ForThisProcess();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = live.Subscribe(message =>
        {
            if (message is RequestChanged or ResourceChanged)
                Volatile.Read(ref wake).TrySetResult();
            return Task.CompletedTask;
        });
        var workerId = identity.ToString();
        var running = new List<Task>();
        var nextReclaim = DateTimeOffset.MinValue;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // A fresh signal before looking at the queue, so that work queued while we look is not missed.
                var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref wake, signal);
                try
                {
                    // At start-up, then now and then for other processes of this machine that die meanwhile.
                    if (time.GetUtcNow() >= nextReclaim)
                    {
                        await provisioning.ReclaimFromDeadProcessesAsync(identity, stoppingToken);
                        nextReclaim = time.GetUtcNow() + ReclaimInterval;
                    }

                    while (running.Count < MaxInFlight && await provisioning.ClaimNextAsync(workerId, stoppingToken) is { } claimed)
                        running.Add(RunAsync(claimed, workerId, stoppingToken));
                }
                catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
                {
                    // The database was busy or briefly unavailable; the operations' leases make it safe to try again.
                    LogQueueError(e);
                }

                var idle = Task.Delay(options.Value.IdleDelay, time, stoppingToken);
                await Task.WhenAny([signal.Task, idle, .. running]);
                foreach (var failed in running.Where(t => t.IsFaulted).ToList())
                    await failed; // Not an error this worker handles: it ends the worker, as it would have unthreaded.
                running.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Stopping: operations in flight end with the token; their leases cover whatever they left.
            await Task.WhenAll(running);
        }
    }

    private async Task RunAsync(Guid operationId, string workerId, CancellationToken ct)
    {
        await Task.Yield();
        try
        {
            await provisioning.ExecuteAsync(operationId, workerId, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
        {
            // Recording the outcome failed; the lease runs out and the operation is tried again.
            LogQueueError(e);
        }
    }

    [LoggerMessage(LogLevel.Warning, "The provisioning queue could not be read or written")]
    private partial void LogQueueError(Exception exception);
}
