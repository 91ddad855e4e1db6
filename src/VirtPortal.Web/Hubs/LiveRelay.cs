using Microsoft.AspNetCore.SignalR;
using VirtPortal.Core.Live;

namespace VirtPortal.Web.Hubs;

/// <summary>
/// The hub's one subscription to the LiveUpdates bus: forwards each message to the groups allowed to hear
/// it (never to all clients). Change messages go to their audiences, a notification to its user only,
/// a metric sample to the connections that subscribed to that resource.
/// </summary>
public sealed class LiveRelay(LiveUpdates live, IHubContext<LiveHub> hub) : IHostedService, IDisposable
{
    private IDisposable? subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        subscription ??= live.Subscribe(ForwardAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => Interlocked.Exchange(ref subscription, null)?.Dispose();

    private Task ForwardAsync(LiveMessage message)
    {
        switch (message)
        {
            case MetricsSampled sample:
                return hub.Clients.Group(LiveConnections.MetricsGroup(sample.ResourceId))
                    .SendAsync(LiveEvents.Metrics, new LiveMetrics(sample.ResourceId, sample.Point));
            case DatabaseSampled sample:
                // To those who subscribed to the database's figures (SubscribeMetrics checks they may see it).
                return hub.Clients.Group(LiveConnections.MetricsGroup(sample.ResourceId))
                    .SendAsync(LiveEvents.DatabaseSampled, new LiveDatabaseFigures(sample.ResourceId, sample.At, sample.SizeBytes, sample.ActiveConnections));
            case NotificationAdded notification:
                return hub.Clients.User(notification.UserId).SendAsync(LiveEvents.NotificationAdded, LiveChange.Of(notification));
        }

        var audiences = LiveAudience.Of(message);
        if (audiences.Count == 0 || LiveEvents.NameOf(message) is not { } name)
            return Task.CompletedTask;
        return hub.Clients.Groups([.. audiences.Select(a => a.Name)]).SendAsync(name, LiveChange.Of(message));
    }
}
