using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VirtPortal.Tests.Webhooks;

/// <summary>One POST the receiver got: what it said, whether its signature and timestamp held, and what was answered.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Body, bool Verified, string? Problem, int Answered)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Type => Json.GetProperty("type").GetString()!;

    public Guid EntityId => Json.GetProperty("entity").GetProperty("id").GetGuid();

    public long EntityVersion => Json.GetProperty("entity").GetProperty("version").GetInt64();
}

/// <summary>
/// A receiver as a customer would write one, independent of the portal's code: an HttpListener on 127.0.0.1 (a free
/// port) that checks each POST as the Standard Webhooks specification says (HMAC-SHA256 with the secret's bytes over
/// "id.timestamp.body", base64, "v1," prefix; a timestamp within five minutes of its own clock) and answers what the
/// test tells it to.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private readonly HttpListener listener = new();
    private readonly Func<DateTimeOffset> clock;
    private readonly ConcurrentQueue<int> answers = new();
    private readonly List<ReceivedWebhook> received = [];
    private readonly List<string> arrivals = [];
    private readonly Lock gate = new();
    private readonly Task loop;
    private readonly SemaphoreSlim arrived = new(0);

    public WebhookReceiver(Func<DateTimeOffset>? clock = null)
    {
        this.clock = clock ?? (() => DateTimeOffset.UtcNow);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ListenAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hooks";

    /// <summary>The secret to verify with, once the subscription is made.</summary>
    public string? Secret { get; set; }

    /// <summary>How long to wait before answering (a slow receiver).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>What to answer when no <see cref="AnswerNext"/> is queued.</summary>
    public int DefaultAnswer { get; set; } = 200;

    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
            answers.Enqueue(status);
    }

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (gate)
                return [.. received];
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> POSTs arrived.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (Received.Count < count)
        {
            try
            {
                await arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Only {Received.Count} of {count} webhooks arrived within {timeout}.");
            }
        }

        return Received;
    }

    /// <summary>The webhook-ids of POSTs as they arrive, before they are answered.</summary>
    public IReadOnlyList<string> Arrivals
    {
        get
        {
            lock (gate)
                return [.. arrivals];
        }
    }

    /// <summary>While set, POSTs are held unanswered until it completes (a receiver that has not answered yet).</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Waits until at least <paramref name="count"/> POSTs arrived, answered or not.</summary>
    public async Task WaitForArrivalsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (Arrivals.Count < count)
        {
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"Only {Arrivals.Count} of {count} webhooks arrived within {timeout}.");
            await Task.Delay(20);
        }
    }

    private async Task ListenAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            // Each POST on its own: one held unanswered must not hold up the next.
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var id = context.Request.Headers["webhook-id"] ?? "";
        var timestamp = context.Request.Headers["webhook-timestamp"] ?? "";
        lock (gate)
            arrivals.Add(id);
        var problem = Verify(id, timestamp, context.Request.Headers["webhook-signature"] ?? "", body);
        if (Hold is { } hold)
            await hold.Task;
        if (Delay > TimeSpan.Zero)
            await Task.Delay(Delay);
        var status = problem is not null ? 400 : answers.TryDequeue(out var queued) ? queued : DefaultAnswer;
        try
        {
            context.Response.StatusCode = status;
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The sender is gone (a portal killed while it waited): nobody hears this answer.
            status = 0;
        }

        lock (gate)
            received.Add(new ReceivedWebhook(id, timestamp, body, problem is null, problem, status));
        try
        {
            arrived.Release();
        }
        catch (ObjectDisposedException)
        {
            // Answered while the receiver was being disposed.
        }
    }

    /// <summary>The receiver's own check of a delivery: null when it holds, else why not.</summary>
    private string? Verify(string id, string timestamp, string signatures, string body)
    {
        if (Secret is not { } secret || !secret.StartsWith("whsec_", StringComparison.Ordinal))
            return "no secret to verify with";
        if (id.Length == 0 || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return "missing webhook-id or webhook-timestamp";
        if ((clock() - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > Tolerance)
            return "timestamp outside the tolerance";
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        foreach (var signature in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = signature.Split(',', 2);
            var given = new byte[expected.Length + 1];
            if (parts.Length == 2 && parts[0] == "v1" && Convert.TryFromBase64String(parts[1], given, out var length) && length == expected.Length
                && CryptographicOperations.FixedTimeEquals(expected, given.AsSpan(0, length)))
                return null;
        }

        return "no signature matches";
    }

    public async ValueTask DisposeAsync()
    {
        Hold?.TrySetResult();
        listener.Stop();
        listener.Close();
        await loop;
        arrived.Dispose();
    }
}
