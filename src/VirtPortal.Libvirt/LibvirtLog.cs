using Microsoft.Extensions.Logging;

namespace VirtPortal.Libvirt;

internal static partial class LibvirtLog
{
    [LoggerMessage(LogLevel.Information, "Connected to {Uri}")]
    public static partial void Connected(ILogger logger, string uri);

    [LoggerMessage(LogLevel.Warning, "Connection to {Uri} lost; the next call reconnects")]
    public static partial void ConnectionLost(ILogger logger, string uri);

    [LoggerMessage(LogLevel.Warning, "Connection to {Uri} closed by the host (reason {Reason}); reconnecting for its event subscribers")]
    public static partial void ConnectionClosed(ILogger logger, string uri, int reason);

    [LoggerMessage(LogLevel.Information, "Domain {DomainId} ({Name}) defined on {Uri}")]
    public static partial void DomainDefined(ILogger logger, Guid domainId, string name, string uri);

    [LoggerMessage(LogLevel.Information, "Domain {DomainId} deleted on {Uri}")]
    public static partial void DomainDeleted(ILogger logger, Guid domainId, string uri);

    [LoggerMessage(LogLevel.Warning, "Events from {Uri} will flow once it is reachable")]
    public static partial void EventsDeferred(ILogger logger, Exception exception, string uri);

    [LoggerMessage(LogLevel.Warning, "Could not subscribe to lifecycle events on {Uri}")]
    public static partial void SubscribeFailed(ILogger logger, Exception exception, string uri);

    [LoggerMessage(LogLevel.Warning, "Storage pool {Pool} not found on {Uri}")]
    public static partial void PoolMissing(ILogger logger, string pool, string uri);

    [LoggerMessage(LogLevel.Error, "Event handler failed for domain {DomainId} ({Detail})")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, Guid domainId, string detail);

    [LoggerMessage(LogLevel.Warning, "Could not read a lifecycle event's domain")]
    public static partial void EventUnreadable(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Disk of domain {DomainId} on {Uri} was not removed; the next delete retries")]
    public static partial void OverlayNotRemoved(ILogger logger, Exception exception, Guid domainId, string uri);

    [LoggerMessage(LogLevel.Warning, "{Uri} did not expand its host CPU ({Error}); KVM detection reads only the features its capabilities list")]
    public static partial void CpuNotExpanded(ILogger logger, string uri, string error);

    [LoggerMessage(LogLevel.Information, "{Uri} refused the bulk-stats no-wait flag ({Error}); it is asked without it from now on")]
    public static partial void StatsNoWaitRefused(ILogger logger, string uri, string error);
}
