using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Reconciliation;

/// <summary>
/// Runs the reconciler on a timer and whenever a host reports a lifecycle event. An event's domain is
/// recorded first, on its own (<see cref="Reconciler.ReportEventAsync"/>), so the change reaches the
/// screens without waiting for the whole pass that follows it.
/// </summary>
public sealed partial class ReconcilerMonitor(
    Reconciler reconciler, HypervisorRegistry registry, IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<ReconcilerOptions> options, TimeProvider time, ILogger<ReconcilerMonitor> logger) : BackgroundService
{
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // Events not yet reported. Past its capacity the oldest go: the full pass that follows records every domain anyway.
    private readonly Channel<(Guid HostId, DomainEvent Change)> events =
        Channel.CreateBounded<(Guid, DomainEvent)>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Per host, the adapter whose events we follow: hosts are added, removed and re-pointed while
        // the portal runs, and the registry then hands out a new adapter.
        var subscriptions = new Dictionary<Guid, (IHypervisor Adapter, IDisposable Subscription)>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    while (events.Reader.TryRead(out var pending))
                        await reconciler.ReportEventAsync(pending.HostId, pending.Change, stoppingToken);
                    await FollowEventsAsync(subscriptions, stoppingToken);
                    await reconciler.RunAsync(stoppingToken);
                }
                catch (DbUpdateException e)
                {
                    LogFailed(e);
                }

                using var timeout = new CancellationTokenSource(options.Value.Interval, time);
                using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken);
                try
                {
                    await wake.Reader.ReadAsync(either.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // The interval passed without an event: time for the regular pass.
                }
            }
        }
        finally
        {
            foreach (var (_, subscription) in subscriptions.Values)
                subscription.Dispose();
        }
    }

    private async Task FollowEventsAsync(Dictionary<Guid, (IHypervisor Adapter, IDisposable Subscription)> subscriptions, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var hosts = await db.Hosts.AsNoTracking().ToListAsync(ct);
        foreach (var gone in subscriptions.Keys.Where(id => hosts.All(h => h.Id != id)).ToList())
        {
            subscriptions[gone].Subscription.Dispose();
            subscriptions.Remove(gone);
        }

        foreach (var host in hosts)
        {
            IHypervisor adapter;
            try
            {
                adapter = registry.For(host);
            }
            catch (HypervisorException)
            {
                // No adapter for this driver here; the reconciler reports the host unreachable.
                continue;
            }

            if (subscriptions.TryGetValue(host.Id, out var current) && ReferenceEquals(current.Adapter, adapter))
                continue;
            current.Subscription?.Dispose();
            var hostId = host.Id;
            subscriptions[host.Id] = (adapter, adapter.SubscribeEvents(change =>
            {
                events.Writer.TryWrite((hostId, change));
                wake.Writer.TryWrite(true);
                return Task.CompletedTask;
            }));
        }
    }

    [LoggerMessage(LogLevel.Warning, "A reconciler pass failed")]
    private partial void LogFailed(Exception exception);
}
