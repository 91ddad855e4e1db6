using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;

namespace VirtPortal.Web.Hubs;

/// <summary>The client methods the live hub calls; each carries a <see cref="LiveChange"/> or, for metrics, a <see cref="LiveMetrics"/>.</summary>
public static class LiveEvents
{
    public const string ResourceChanged = "resourceChanged";
    public const string RequestChanged = "requestChanged";
    public const string HostChanged = "hostChanged";
    public const string HostSampled = "hostSampled";
    public const string DriftChanged = "driftChanged";
    public const string DatabaseServerChanged = "databaseServerChanged";
    public const string NotificationAdded = "notificationAdded";
    public const string Metrics = "metrics";

    /// <summary>A database's figures from its server's check, as a <see cref="LiveDatabaseFigures"/>, to its figures' subscribers.</summary>
    public const string DatabaseSampled = "databaseSampled";

    /// <summary>The event a change message is sent as; null for metrics, which have their own shape.</summary>
    public static string? NameOf(LiveMessage message) => message switch
    {
        Core.Live.ResourceChanged => ResourceChanged,
        Core.Live.RequestChanged => RequestChanged,
        Core.Live.HostChanged => HostChanged,
        Core.Live.HostSampled => HostSampled,
        Core.Live.DriftChanged => DriftChanged,
        Core.Live.DatabaseServerChanged => DatabaseServerChanged,
        Core.Live.NotificationAdded => NotificationAdded,
        _ => null,
    };
}

/// <summary>
/// Something changed: re-read it if <see cref="Version"/> is higher than the one held. <see cref="TenantId"/>
/// is null for portal-wide messages (hosts, drift) and notifications; a notification's version is its id.
/// </summary>
public sealed record LiveChange(Guid? TenantId, Guid EntityId, long Version)
{
    public static LiveChange Of(LiveMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new LiveChange(message.TenantId, message.EntityId, message.Version);
    }
}

/// <summary>One metric sample of a resource the connection subscribed to.</summary>
public sealed record LiveMetrics(Guid ResourceId, MetricPoint Point);

/// <summary>What a figures subscriber of a database receives at each of its server's checks.</summary>
public sealed record LiveDatabaseFigures(Guid ResourceId, DateTimeOffset At, long SizeBytes, int ActiveConnections);
