using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace VirtPortal.LatencyBench;

/// <summary>The hub's change message (docs/decisions/0008-live-hub.md): "re-read this entity, it is at this version now".</summary>
internal sealed record LiveChange(Guid? TenantId, Guid EntityId, long Version);

/// <summary>One arrival of a change message, at the bench's clock (Unix ms).</summary>
internal sealed record HubArrival(double AtMs, LiveChange Change);

/// <summary>
/// A .NET SignalR client on /hubs/live with the member's sign-in cookie and the portal's own Origin, as a
/// browser page would connect; it keeps the arrival time of every <c>resourceChanged</c>.
/// </summary>
internal sealed class HubListener : IAsyncDisposable
{
    private readonly HubConnection connection;
    private readonly List<HubArrival> arrivals = [];

    private HubListener(HubConnection connection)
    {
        this.connection = connection;
        connection.On<LiveChange>("resourceChanged", change =>
        {
            var at = Clock.NowMs();
            lock (arrivals)
                arrivals.Add(new HubArrival(at, change));
        });
        connection.Closed += _ =>
        {
            Interlocked.Increment(ref closed);
            return Task.CompletedTask;
        };
    }

    private int closed;

    public int Closed => closed;

    public static async Task<HubListener> ConnectAsync(Uri baseUrl, string origin, CookieContainer cookies, CancellationToken ct)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUrl, "/hubs/live"), options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.Cookies = cookies;
                // LiveOriginCheck refuses a foreign Origin; a page of the portal sends its own.
                options.Headers["Origin"] = origin;
            })
            .Build();
        var listener = new HubListener(connection);
        await connection.StartAsync(ct);
        return listener;
    }

    public IReadOnlyList<HubArrival> For(Guid entityId)
    {
        lock (arrivals)
            return [.. arrivals.Where(a => a.Change.EntityId == entityId)];
    }

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}

/// <summary>One clock for every figure: Unix milliseconds from the system's real-time clock, which the browser's <c>performance.timeOrigin + performance.now()</c> also reads.</summary>
internal static class Clock
{
    public static double NowMs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond;

    public static DateTimeOffset FromMs(double ms) => DateTimeOffset.UnixEpoch.AddTicks((long)(ms * TimeSpan.TicksPerMillisecond));
}
