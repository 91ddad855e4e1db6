using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Live;
using VirtPortal.Core.Users;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Hubs;

/// <summary>
/// Every open live connection with the groups it is in. Joins the audiences the access table grants on
/// connect and keeps them true afterwards: <see cref="RevalidateAllAsync"/> disconnects sessions that no
/// longer speak for their user and moves the others' groups and metric subscriptions to what the table
/// grants now. Changes to one connection's groups are serialized, so a revalidation and a subscription
/// never interleave.
/// </summary>
public sealed partial class LiveConnections(
    IHubContext<LiveHub> hub, LiveAudiences audiences, PortalAccess access, IServiceScopeFactory scopes,
    IOptions<IdentityOptions> identityOptions, ILogger<LiveConnections> logger)
{
    private readonly ConcurrentDictionary<string, Connection> open = new(StringComparer.Ordinal);

    public int Count => open.Count;

    public static string MetricsGroup(Guid resourceId) => $"metrics:{resourceId}";

    public async Task OpenAsync(HubCallerContext context, Actor actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(actor);
        var connection = new Connection(context, actor);
        open[context.ConnectionId] = connection;
        await connection.Gate.WaitAsync(ct);
        try
        {
            await RefreshGroupsAsync(connection, ct);
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    public void Close(string connectionId)
    {
        if (open.TryRemove(connectionId, out var connection))
            connection.Closed = true;
    }

    /// <summary>Joins the resource's metrics group; the caller has asked the access service already.</summary>
    public async Task SubscribeMetricsAsync(string connectionId, Guid resourceId, CancellationToken ct)
    {
        if (!open.TryGetValue(connectionId, out var connection))
            return;
        await connection.Gate.WaitAsync(ct);
        try
        {
            if (connection.Metrics.Add(resourceId))
                await hub.Groups.AddToGroupAsync(connectionId, MetricsGroup(resourceId), ct);
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    public async Task UnsubscribeMetricsAsync(string connectionId, Guid resourceId, CancellationToken ct)
    {
        if (!open.TryGetValue(connectionId, out var connection))
            return;
        await connection.Gate.WaitAsync(ct);
        try
        {
            if (connection.Metrics.Remove(resourceId))
                await hub.Groups.RemoveFromGroupAsync(connectionId, MetricsGroup(resourceId), ct);
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    /// <summary>
    /// Checks every open connection again (see the class summary). SQLite's async calls complete on the
    /// caller's thread, so without a yield a pass over thousands of connections is one long work item that
    /// holds up the relay's metric sends queued behind it; yielding once per connection lets them go first.
    /// </summary>
    public async Task RevalidateAllAsync(CancellationToken ct)
    {
        foreach (var connection in open.Values)
        {
            ct.ThrowIfCancellationRequested();
            await Task.Yield();
            await connection.Gate.WaitAsync(ct);
            try
            {
                if (!connection.Closed)
                    await RevalidateAsync(connection, ct);
            }
#pragma warning disable CA1031 // Fail closed: a connection that cannot be checked is ended, and the others are still checked.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                LogRevalidationFailed(e, connection.Actor.Name, connection.Context.ConnectionId);
                connection.Context.Abort();
            }
            finally
            {
                connection.Gate.Release();
            }
        }
    }

    private async Task RevalidateAsync(Connection connection, CancellationToken ct)
    {
        bool current;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            current = await SessionValidation.IsCurrentAsync(users, identityOptions.Value, connection.Context.User ?? new(),
                scope.ServiceProvider.GetRequiredService<Core.Tokens.ApiTokenService>());
        }

        if (!current)
        {
            LogSessionEnded(connection.Actor.Name, connection.Context.ConnectionId);
            connection.Context.Abort();
            return;
        }

        await RefreshGroupsAsync(connection, ct);
        foreach (var resourceId in connection.Metrics.ToList())
        {
            if (await access.AllowsAsync(connection.Actor, Permission.ResourceView, AccessTarget.Resource(resourceId), ct))
                continue;
            connection.Metrics.Remove(resourceId);
            await hub.Groups.RemoveFromGroupAsync(connection.Context.ConnectionId, MetricsGroup(resourceId), ct);
        }
    }

    /// <summary>Moves the connection to the audiences the table grants its actor now. Call under the connection's gate.</summary>
    private async Task RefreshGroupsAsync(Connection connection, CancellationToken ct)
    {
        var granted = (await audiences.ForAsync(connection.Actor, ct)).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var group in connection.Groups.Except(granted).ToList())
        {
            await hub.Groups.RemoveFromGroupAsync(connection.Context.ConnectionId, group, ct);
            connection.Groups.Remove(group);
        }

        foreach (var group in granted.Except(connection.Groups).ToList())
        {
            await hub.Groups.AddToGroupAsync(connection.Context.ConnectionId, group, ct);
            connection.Groups.Add(group);
        }
    }

    [LoggerMessage(LogLevel.Information, "Live connection {ConnectionId} of {Actor} ended: the session is no longer valid")]
    private partial void LogSessionEnded(string actor, string connectionId);

    [LoggerMessage(LogLevel.Warning, "Live connection {ConnectionId} of {Actor} could not be revalidated and was ended")]
    private partial void LogRevalidationFailed(Exception exception, string actor, string connectionId);

    private sealed class Connection(HubCallerContext context, Actor actor)
    {
        public HubCallerContext Context { get; } = context;

        public Actor Actor { get; } = actor;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);

        public HashSet<Guid> Metrics { get; } = [];

        public volatile bool Closed;
    }
}
