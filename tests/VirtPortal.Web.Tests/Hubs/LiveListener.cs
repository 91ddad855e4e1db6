using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>One event as the client received it: its name and its JSON payload.</summary>
public sealed record LiveEvent(string Name, JsonElement Payload)
{
    /// <summary>The entity a change names (entityId), or the resource of a metrics event.</summary>
    public Guid? EntityId =>
        Payload.TryGetProperty(Name is LiveEvents.Metrics or LiveEvents.DatabaseSampled ? "resourceId" : "entityId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetGuid() : null;

    public Guid? TenantId => Payload.TryGetProperty("tenantId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetGuid() : null;

    public long Version => Payload.GetProperty("version").GetInt64();

    public override string ToString() => $"{Name} {Payload.GetRawText()}";
}

/// <summary>
/// A started hub connection that records every event the hub can send, as raw JSON, so tests assert on
/// the wire shape, and lets a test wait for one event or for the connection to close.
/// </summary>
public sealed class LiveListener : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static readonly string[] AllEvents =
        [LiveEvents.ResourceChanged, LiveEvents.RequestChanged, LiveEvents.HostChanged, LiveEvents.HostSampled, LiveEvents.DriftChanged, LiveEvents.NotificationAdded, LiveEvents.Metrics,
         LiveEvents.DatabaseServerChanged, LiveEvents.DatabaseSampled];

    private readonly Lock gate = new();
    private readonly List<LiveEvent> received = [];
    private readonly List<(Func<LiveEvent, bool> Match, TaskCompletionSource<LiveEvent> Done)> waiters = [];
    private readonly TaskCompletionSource<Exception?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LiveListener(HubConnection connection)
    {
        Connection = connection;
        foreach (var name in AllEvents)
            connection.On<JsonElement>(name, payload => Record(new LiveEvent(name, payload.Clone())));
        connection.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    /// <summary>Completes when the server ends the connection.</summary>
    public Task<Exception?> Closed => closed.Task;

    public IReadOnlyList<LiveEvent> Received
    {
        get
        {
            lock (gate)
                return [.. received];
        }
    }

    public static async Task<LiveListener> StartAsync(HubConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var listener = new LiveListener(connection);
        await connection.StartAsync(TestContext.Current.CancellationToken);
        // As a real client does: the server joins the groups after the handshake, and it runs an invocation
        // only after that, so a resync (here of nothing) marks the moment the connection hears everything.
        await connection.InvokeAsync<int>("Resync", new { resources = new Dictionary<string, long>(), requests = new Dictionary<string, long>() }, TestContext.Current.CancellationToken);
        return listener;
    }

    /// <summary>The first event (received already or to come) that names this entity.</summary>
    public Task<LiveEvent> WaitForAsync(string name, Guid entityId) =>
        WaitForAsync(e => e.Name == name && e.EntityId == entityId, $"{name} of {entityId}");

    public async Task<LiveEvent> WaitForAsync(Func<LiveEvent, bool> match, string what)
    {
        ArgumentNullException.ThrowIfNull(match);
        TaskCompletionSource<LiveEvent> done;
        lock (gate)
        {
            if (received.FirstOrDefault(match) is { } seen)
                return seen;
            done = new TaskCompletionSource<LiveEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"No {what} within {Patience.TotalSeconds} s; received: {string.Join("; ", Received)}");
        }
    }

    /// <summary>
    /// Waits for <paramref name="sentinel"/> (an event published after the ones that must not arrive), then a
    /// little longer for stragglers, since the bus delivers each message on its own task.
    /// </summary>
    public async Task SettleAfterAsync(string name, Guid sentinel)
    {
        await WaitForAsync(name, sentinel);
        await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
    }

    private void Record(LiveEvent e)
    {
        lock (gate)
        {
            received.Add(e);
            foreach (var waiter in waiters.Where(w => w.Match(e)).ToList())
            {
                waiters.Remove(waiter);
                waiter.Done.TrySetResult(e);
            }
        }
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
