using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using VirtPortal.Core.Access;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Users;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Hubs;

/// <summary>
/// Live status and metrics for browser scripts (charts, console status) and for scripts outside the
/// browser, at <see cref="Path"/>. A connection hears what the access table lets its user see: its tenants'
/// resource and request changes (every tenant's for staff), hosts and drift when it may see those, its own
/// notifications, and the metrics of the resources it subscribed to. docs/decisions/0008-live-hub.md
/// describes the contract.
/// </summary>
[Authorize(Policy = Policy)]
public sealed class LiveHub(LiveConnections connections, LiveResync resync, PortalAccess access, MetricsQueries metrics, DatabaseService databases) : Hub
{
    public const string Path = "/hubs/live";

    /// <summary>The authorization policy of the hub: signed in, by any scheme the policy lists.</summary>
    public const string Policy = "live-hub";

    public override async Task OnConnectedAsync()
    {
        await connections.OpenAsync(Context, CurrentActor(), Context.ConnectionAborted);
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Close(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Starts the <c>metrics</c> events of one resource, if the caller may see it (a refusal is audited).</summary>
    public async Task SubscribeMetrics(Guid resourceId)
    {
        await Refusing(async () =>
        {
            await access.RequireAsync(CurrentActor(), Permission.ResourceView, AccessTarget.Resource(resourceId), "watch metrics", Context.ConnectionAborted);
            return true;
        });
        await connections.SubscribeMetricsAsync(Context.ConnectionId, resourceId, Context.ConnectionAborted);
    }

    /// <summary>A resource's figures over <paramref name="range"/> (the chart's history), if the caller may see it (a refusal is audited).</summary>
    public Task<IReadOnlyList<MetricPoint>> GetSeries(Guid resourceId, string range)
    {
        var parsed = RangeOf(range);
        return Refusing(() => metrics.SeriesAsync(CurrentActor(), resourceId, parsed, Context.ConnectionAborted));
    }

    /// <summary>
    /// A database's size and sessions over <paramref name="range"/> (its chart's history; the live points are
    /// <c>databaseSampled</c> events after <see cref="SubscribeMetrics"/>), if the caller may see it (a refusal is audited).
    /// </summary>
    public Task<IReadOnlyList<DatabaseSample>> GetDatabaseSeries(Guid resourceId, string range)
    {
        var parsed = RangeOf(range);
        return Refusing(() => databases.SeriesAsync(CurrentActor(), resourceId, parsed, Context.ConnectionAborted));
    }

    public Task UnsubscribeMetrics(Guid resourceId) =>
        connections.UnsubscribeMetricsAsync(Context.ConnectionId, resourceId, Context.ConnectionAborted);

    /// <summary>
    /// Sends the caller a change event for each entity it names, may still see, and holds an older version
    /// of; returns how many it sent (they arrive before this call's result).
    /// </summary>
    public async Task<int> Resync(LiveVersions held)
    {
        IReadOnlyList<LiveMessage> changes;
        try
        {
            changes = await resync.ChangesSinceAsync(CurrentActor(), held ?? new LiveVersions(null, null), Context.ConnectionAborted);
        }
        catch (PortalValidationException e)
        {
            throw new HubException(e.Message);
        }

        foreach (var change in changes)
            await Clients.Caller.SendAsync(LiveEvents.NameOf(change)!, LiveChange.Of(change), Context.ConnectionAborted);
        return changes.Count;
    }

    /// <summary>The access service's refusal as the caller sees it: its message, in a HubException.</summary>
    private static async Task<T> Refusing<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (PortalAccessDeniedException e)
        {
            throw new HubException(e.Message);
        }
    }

    private static MetricRange RangeOf(string range) =>
        Enum.TryParse<MetricRange>(range, ignoreCase: false, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(range, out _)
            ? parsed
            : throw new HubException($"The range is one of {string.Join(", ", Enum.GetNames<MetricRange>())}, not '{range}'.");

    private Actor CurrentActor() =>
        (Context.User is { } user ? ActorAccessor.FromPrincipal(user) : null) ?? throw new HubException("Sign in first.");
}
