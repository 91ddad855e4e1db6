using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VirtPortal.Core.Requests;

/// <summary>Once a minute, escalates or expires requests whose approval stage waited too long.</summary>
public sealed partial class ApprovalDeadlineMonitor(RequestDecisions requests, TimeProvider time, ILogger<ApprovalDeadlineMonitor> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var handled = await requests.HandleOverdueAsync(stoppingToken);
                if (handled > 0)
                    LogHandled(handled);
            }
            catch (Microsoft.EntityFrameworkCore.DbUpdateException e)
            {
                // A database hiccup must not end the monitor; the next tick tries again.
                LogFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Information, "Handled {Count} overdue approvals")]
    private partial void LogHandled(int count);

    [LoggerMessage(LogLevel.Warning, "Checking overdue approvals failed")]
    private partial void LogFailed(Exception exception);
}
