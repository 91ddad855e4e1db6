using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VirtPortal.ApiBench;

/// <summary>
/// Change → signed delivery: a receiver of the bench's own on 127.0.0.1 (HttpListener) that checks each
/// delivery's Standard Webhooks signature with its own code, subscribed through the API to the bench tenant's
/// resource events; per sample one VM is rebooted through the API and the time runs from sending that POST
/// until the receiver has the first verified delivery about that VM.
/// </summary>
internal static class Webhooks
{
    private static readonly string[] ResourceEvents = ["resource.*"];

    public static async Task RunAsync(Uri baseUrl, World world, IReadOnlyList<Guid> vms, int samples, Report.Run run, CancellationToken ct)
    {
        if (samples == 0)
        {
            run.DeliveryNote = "Webhooks were not timed (--hooks 0).";
            return;
        }

        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        listener.Start();
        var arrivals = new ConcurrentDictionary<Guid, TaskCompletionSource<long>>();
        var unverified = 0;
        var received = 0;
        string? secret = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var receiving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync().WaitAsync(stop.Token);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    return;
                }

                var at = Stopwatch.GetTimestamp();
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync(ct);
                Interlocked.Increment(ref received);
                if (secret is null || !Verified(secret, context.Request.Headers["webhook-id"], context.Request.Headers["webhook-timestamp"], context.Request.Headers["webhook-signature"], body))
                {
                    Interlocked.Increment(ref unverified);
                }
                else
                {
                    using var payload = JsonDocument.Parse(body);
                    if (payload.RootElement.GetProperty("entity").GetProperty("id").GetGuid() is var entity && arrivals.TryGetValue(entity, out var waiting))
                        waiting.TrySetResult(at);
                }

                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        }, ct);

        using var member = new HttpClient { BaseAddress = baseUrl };
        member.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", world.MemberToken);
        using (var create = await member.PostAsJsonAsync(new Uri("/api/v1/webhooks", UriKind.Relative),
            new { tenantId = world.TenantId, url = $"http://127.0.0.1:{port}/hook", events = ResourceEvents, description = "api bench" }, ct))
        {
            var text = await create.Content.ReadAsStringAsync(ct);
            if (create.StatusCode != HttpStatusCode.Created)
                throw new InvalidOperationException($"POST /api/v1/webhooks: {(int)create.StatusCode} {text}");
            using var created = JsonDocument.Parse(text);
            secret = created.RootElement.GetProperty("secret").GetString();
        }

        for (var i = 0; i < samples; i++)
        {
            var vm = vms[i % vms.Count];
            // One reboot of a VM at a time: wait until its previous one is done before the next of that VM.
            await UntilIdleAsync(member, vm, ct);
            var waiting = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            arrivals[vm] = waiting;
            var sent = Stopwatch.GetTimestamp();
            using (var reboot = await member.PostAsync(new Uri($"/api/v1/resources/{vm}/reboot", UriKind.Relative), null, ct))
            {
                if (reboot.StatusCode != HttpStatusCode.Accepted)
                    throw new InvalidOperationException($"POST reboot: {(int)reboot.StatusCode} {await reboot.Content.ReadAsStringAsync(ct)}");
            }

            var at = await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
            run.Delivery.Add(Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds);
            arrivals.TryRemove(vm, out _);
        }

        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await stop.CancelAsync();
        listener.Stop();
        await receiving.ContinueWith(_ => { }, TaskScheduler.Default);
        run.DeliveryNote = string.Create(CultureInfo.InvariantCulture,
            $"The receiver got {received} deliveries of the {samples} reboots' changes (each reboot is several: queued, rebooting, running), {unverified} with a signature it could not verify.");
    }

    private static async Task UntilIdleAsync(HttpClient client, Guid vm, CancellationToken ct)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(30);)
        {
            using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/v1/resources/{vm}", UriKind.Relative), ct));
            var summary = document.RootElement.GetProperty("summary");
            if (summary.GetProperty("state").GetString() == "Running" && summary.GetProperty("pending").ValueKind == JsonValueKind.Null)
                return;
            await Task.Delay(20, ct);
        }

        throw new TimeoutException($"VM {vm} did not come back to Running with nothing pending.");
    }

    /// <summary>Standard Webhooks: v1 is base64 HMAC-SHA256, keyed by the secret after whsec_, over "id.timestamp.body"; the timestamp within 5 minutes.</summary>
    private static bool Verified(string secret, string? id, string? timestamp, string? signatures, string body)
    {
        if (id is null || timestamp is null || signatures is null || !long.TryParse(timestamp, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
            return false;
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        return signatures.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
