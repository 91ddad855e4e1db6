using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VirtPortal.Core.Leases;

/// <summary>Runs a lease pass every minute.</summary>
public sealed partial class LeaseMonitor(LeaseService leases, TimeProvider time, ILogger<LeaseMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        do
        {
            try
            {
                await leases.ProcessAsync(stoppingToken);
            }
            catch (DbUpdateException e)
            {
                // A database hiccup must not end the monitor; the next tick tries again.
                LogFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Warning, "A lease pass failed")]
    private partial void LogFailed(Exception exception);
}
