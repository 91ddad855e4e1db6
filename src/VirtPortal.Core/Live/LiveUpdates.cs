using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Monitoring;

namespace VirtPortal.Core.Live;

/// <summary>
/// Something changed. Every message names its tenant (null: portal-wide, staff only) and carries the
/// entity's version, so a subscriber that missed messages knows to re-read.
/// </summary>
public abstract record LiveMessage(Guid? TenantId, Guid EntityId, long Version);

/// <summary>A request moved (state, stage, timeline).</summary>
public sealed record RequestChanged(Guid? TenantId, Guid EntityId, long Version) : LiveMessage(TenantId, EntityId, Version);

/// <summary>A resource changed (state, lease, size).</summary>
public sealed record ResourceChanged(Guid? TenantId, Guid EntityId, long Version) : LiveMessage(TenantId, EntityId, Version);

/// <summary>
/// A resource's metrics were sampled; the version is the sample's time in Unix milliseconds, so it
/// grows with every sample of that resource.
/// </summary>
public sealed record MetricsSampled(Guid ResourceTenantId, Guid ResourceId, MetricPoint Point)
    : LiveMessage(ResourceTenantId, ResourceId, Point.At.ToUnixTimeMilliseconds());

/// <summary>
/// A database's figures were read by its server's check (size on disk, open sessions); the version is the
/// sample's time in Unix milliseconds.
/// </summary>
public sealed record DatabaseSampled(Guid ResourceTenantId, Guid ResourceId, DateTimeOffset At, long SizeBytes, int ActiveConnections)
    : LiveMessage(ResourceTenantId, ResourceId, At.ToUnixTimeMilliseconds());

/// <summary>A host changed (state, facts, settings); portal-wide, for staff screens.</summary>
public sealed record HostChanged(Guid EntityId) : LiveMessage(null, EntityId, 0);

/// <summary>
/// A host's metrics were sampled (its sums are in the metric store); portal-wide, for the admins' host
/// dashboard. The version is the sample's time in Unix milliseconds.
/// </summary>
public sealed record HostSampled(Guid EntityId, DateTimeOffset At) : LiveMessage(null, EntityId, At.ToUnixTimeMilliseconds());

/// <summary>A database server changed (state, version, capacity, settings); portal-wide, for the admins' database servers page.</summary>
public sealed record DatabaseServerChanged(Guid EntityId) : LiveMessage(null, EntityId, 0);

/// <summary>Drift was found or resolved on a host; portal-wide, for the admins' drift inbox.</summary>
public sealed record DriftChanged(Guid HostId) : LiveMessage(null, HostId, 0);

/// <summary>A user got a notification; only that user's subscribers care.</summary>
public sealed record NotificationAdded(string UserId, long NotificationId) : LiveMessage(null, Guid.Empty, NotificationId);

/// <summary>
/// The in-process bus every live screen listens to (eShop's order-status notifier shape): services
/// publish after they commit, Blazor components and the SignalR hub subscribe and get an
/// <see cref="IDisposable"/> to stop. Handlers run off the publisher's thread; one failing handler
/// neither stops the others nor the publisher.
/// </summary>
public sealed partial class LiveUpdates(ILogger<LiveUpdates> logger)
{
    private readonly ConcurrentDictionary<Guid, Func<LiveMessage, Task>> subscribers = new();

    public IDisposable Subscribe(Func<LiveMessage, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var id = Guid.NewGuid();
        subscribers[id] = handler;
        return new Subscription(() => subscribers.TryRemove(id, out _));
    }

    public int SubscriberCount => subscribers.Count;

    public void Publish(LiveMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var handler in subscribers.Values)
            _ = DeliverAsync(handler, message);
    }

    private async Task DeliverAsync(Func<LiveMessage, Task> handler, LiveMessage message)
    {
        try
        {
            await Task.Yield();
            await handler(message);
        }
#pragma warning disable CA1031 // A subscriber's bug must not break delivery to the others; it is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogHandlerFailed(e, message.GetType().Name);
        }
    }

    [LoggerMessage(LogLevel.Warning, "A live-update subscriber failed on {Message}")]
    private partial void LogHandlerFailed(Exception exception, string message);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref dispose, null)?.Invoke();
    }
}
