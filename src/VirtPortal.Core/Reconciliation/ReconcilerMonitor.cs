using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;

namespace VirtPortal.Core.Reconciliation;

public sealed class ReconcilerOptions
{
    public const string Section = "Reconciler";

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Reconciler:Interval must be between 1 second and 1 hour.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Runs the reconciler on a timer and whenever a host reports a lifecycle event.</summary>
public sealed partial class ReconcilerMonitor(
    Reconciler reconciler, HypervisorRegistry registry, IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<ReconcilerOptions> options, TimeProvider time, ILogger<ReconcilerMonitor> logger) : BackgroundService
{
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriptions = new List<IDisposable>();
        try
        {
            await using (var db = await dbFactory.CreateDbContextAsync(stoppingToken))
            {
                foreach (var host in await db.Hosts.AsNoTracking().ToListAsync(stoppingToken))
                    subscriptions.Add(registry.For(host).SubscribeEvents(_ => Task.FromResult(wake.Writer.TryWrite(true))));
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
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
            foreach (var subscription in subscriptions)
                subscription.Dispose();
        }
    }

    [LoggerMessage(LogLevel.Warning, "A reconciler pass failed")]
    private partial void LogFailed(Exception exception);
}
