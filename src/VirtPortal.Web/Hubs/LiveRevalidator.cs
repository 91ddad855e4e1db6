using Microsoft.Extensions.Options;

namespace VirtPortal.Web.Hubs;

/// <summary>Checks every open live connection again each <see cref="LiveOptions.RevalidationInterval"/>.</summary>
public sealed class LiveRevalidator(LiveConnections connections, IOptions<LiveOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevalidationInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await connections.RevalidateAllAsync(stoppingToken);
    }
}
