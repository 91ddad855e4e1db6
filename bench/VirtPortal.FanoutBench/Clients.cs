using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using VirtPortal.BenchKit;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace VirtPortal.FanoutBench;

/// <summary>The part of a <c>metrics</c> message the bench reads.</summary>
internal sealed record MetricsMessage(Guid ResourceId, MetricsPoint Point);

internal sealed record MetricsPoint(DateTimeOffset At);

/// <summary>Counts and latencies, kept only while <see cref="Measuring"/>; samples are in milliseconds.</summary>
internal sealed class Tally
{
    private readonly Lock gate = new();

    public List<double> Latencies { get; } = [];

    public List<double> Spacings { get; } = [];

    /// <summary>Every distinct sample time seen in the window: the collector's ticks.</summary>
    public HashSet<DateTimeOffset> Ticks { get; } = [];

    /// <summary>Per tick: the slowest delivery of its points, in milliseconds.</summary>
    public Dictionary<DateTimeOffset, double> SlowestPerTick { get; } = [];

    public DateTimeOffset WindowStart { get; set; } = DateTimeOffset.MaxValue;

    public DateTimeOffset WindowEnd { get; set; } = DateTimeOffset.MaxValue;

    public int Closed;

    public int Reconnecting;

    public void Add(double latency, double? spacing, DateTimeOffset at)
    {
        lock (gate)
        {
            Latencies.Add(latency);
            if (spacing is { } s)
                Spacings.Add(s);
            Ticks.Add(at);
            SlowestPerTick[at] = Math.Max(latency, SlowestPerTick.GetValueOrDefault(at));
        }
    }
}

/// <summary>One hub client: a SignalR connection over a websocket from its own 127.0.0.x, subscribed to one VM's metrics.</summary>
internal sealed class FanoutClient(Guid resourceId, IPAddress source, CookieContainer cookies)
{
    private DateTimeOffset? lastArrival;

    public Guid ResourceId { get; } = resourceId;

    public IPAddress Source { get; } = source;

    public HubConnection? Connection { get; private set; }

    /// <summary>Sample times received that fell in the window.</summary>
    public HashSet<DateTimeOffset> Received { get; } = [];

    public async Task StartAsync(Uri hub, HttpMessageInvoker invoker, Tally tally, CancellationToken ct)
    {
        var cookieHeader = cookies.GetCookieHeader(hub);
        var connection = new HubConnectionBuilder()
            .WithUrl(hub, options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                // A websocket of our own, so that its TCP connection leaves from this client's source address.
                options.WebSocketFactory = async (context, token) =>
                {
                    var socket = new ClientWebSocket();
                    socket.Options.SetRequestHeader("Cookie", cookieHeader);
                    try
                    {
                        await socket.ConnectAsync(context.Uri, invoker, token);
                        return socket;
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
            })
            .Build();
        connection.ServerTimeout = TimeSpan.FromSeconds(60);
        connection.On<MetricsMessage>("metrics", message => OnMetrics(message, tally));
        connection.Closed += _ =>
        {
            Interlocked.Increment(ref tally.Closed);
            return Task.CompletedTask;
        };
        connection.Reconnecting += _ =>
        {
            Interlocked.Increment(ref tally.Reconnecting);
            return Task.CompletedTask;
        };
        Connection = connection;
        await connection.StartAsync(ct);
        await connection.InvokeAsync("SubscribeMetrics", ResourceId, ct);
    }

    private void OnMetrics(MetricsMessage message, Tally tally)
    {
        var now = DateTimeOffset.UtcNow;
        var previous = lastArrival;
        lastArrival = now;
        var at = message.Point.At;
        if (message.ResourceId != ResourceId || at < tally.WindowStart || at >= tally.WindowEnd)
            return;
        lock (Received)
            Received.Add(at);
        var spacing = previous is { } p && p >= tally.WindowStart ? (now - p).TotalMilliseconds : (double?)null;
        tally.Add((now - at).TotalMilliseconds, spacing, at);
    }

    /// <summary>An HTTP stack whose every connection is bound to <paramref name="source"/> before it connects.</summary>
    public static HttpMessageInvoker InvokerFrom(IPAddress source) => new(new SocketsHttpHandler { ConnectCallback = BoundTo(source) });

    private static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> BoundTo(IPAddress source) =>
        async (context, token) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };

    /// <summary>Signs in through the portal's sign-in form from <paramref name="source"/>; the cookies are that session.</summary>
    public static Task<CookieContainer> SignInAsync(Uri baseUrl, IPAddress source, string email, string password, CancellationToken ct) =>
        PortalSignIn.SignInAsync(baseUrl, email, password, new SocketsHttpHandler { ConnectCallback = BoundTo(source) }, ct);
}
