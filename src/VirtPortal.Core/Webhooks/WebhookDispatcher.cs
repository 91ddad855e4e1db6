using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Sends the outbox. One pass (<see cref="RunOnceAsync"/>) makes the deliveries of new events for every subscription
/// that wants them, then sends those due: per subscription and entity in the outbox's order (a delivery waits while an
/// earlier one of its entity is still pending), retried with exponential backoff and jitter, and after
/// <see cref="WebhookOptions.MaxAttempts"/> failed, with the subscription marked failing and its owners told. An attempt
/// is claimed in the database before it is sent (its next attempt moved past the timeout), so a portal that dies while
/// sending sends it again after its restart, and two portals never send it at once: receivers get each event at least
/// once and recognize repeats by <c>webhook-id</c>.
/// </summary>
public sealed partial class WebhookDispatcher : IDisposable
{
    private const int Batch = 200;

    /// <summary>How much longer than the timeout an attempt's claim lasts, for the answer to be recorded.</summary>
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(5);

    private readonly IDbContextFactory<PortalDbContext> dbFactory;
    private readonly WebhookSecrets secrets;
    private readonly IOptions<WebhookOptions> options;
    private readonly LiveUpdates live;
    private readonly TimeProvider time;
    private readonly ILogger<WebhookDispatcher> logger;
    private readonly HttpClient http;

    public WebhookDispatcher(
        IDbContextFactory<PortalDbContext> dbFactory, WebhookSecrets secrets, WebhookTargets targets, IOptions<WebhookOptions> options,
        LiveUpdates live, TimeProvider time, ILogger<WebhookDispatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(targets);
        this.dbFactory = dbFactory;
        this.secrets = secrets;
        this.options = options;
        this.live = live;
        this.time = time;
        this.logger = logger;
        // Redirects are not followed (a 3xx could point anywhere, a private address included); every connection goes
        // through the target check, at the address it checked.
        http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = (context, ct) => targets.ConnectAsync(context.DnsEndPoint, ct),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("VirtPortal-Webhooks", "1"));
    }

    /// <summary>Makes new events' deliveries and sends what is due until nothing is; returns how many attempts were made.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await FanOutAsync(ct);
        var sent = 0;
        while (true)
        {
            var due = await DueAsync(ct);
            if (due.Count == 0)
                return sent;
            // Subscriptions in parallel, each one's deliveries in order: a slow receiver holds up only itself.
            var counts = await Task.WhenAll(due.GroupBy(d => d.SubscriptionId).Select(group => SendAllAsync([.. group], ct)));
            var made = counts.Sum();
            sent += made;
            if (made == 0)
                return sent;
        }
    }

    /// <summary>
    /// Deletes finished deliveries older than <see cref="WebhookOptions.RetentionDays"/>, and the events no delivery
    /// refers to any more; returns how many deliveries went.
    /// </summary>
    public async Task<int> PurgeAsync(CancellationToken ct)
    {
        var before = time.GetUtcNow().AddDays(-options.Value.RetentionDays);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deliveries = await db.WebhookDeliveries.Where(d => d.State != WebhookDeliveryState.Pending && d.CreatedAt < before).ExecuteDeleteAsync(ct);
        await db.WebhookEvents.Where(e => e.FannedOut && e.OccurredAt < before && !db.WebhookDeliveries.Any(d => d.EventSequence == e.Sequence))
            .ExecuteDeleteAsync(ct);
        return deliveries;
    }

    /// <summary>When the next pending delivery is due, for the service to sleep until then (or a kick).</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.WebhookDeliveries.Where(d => d.State == WebhookDeliveryState.Pending).OrderBy(d => d.NextAttemptAt)
            .Select(d => (DateTimeOffset?)d.NextAttemptAt).FirstOrDefaultAsync(ct);
    }

    /// <summary>Each new event becomes a delivery per enabled subscription that wants it: its tenant's (or a portal-wide one) with a matching type.</summary>
    private async Task FanOutAsync(CancellationToken ct)
    {
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var events = await db.WebhookEvents.AsNoTracking().Where(e => !e.FannedOut).OrderBy(e => e.Sequence).Take(Batch).ToListAsync(ct);
            if (events.Count == 0)
                return;
            var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Enabled).ToListAsync(ct);
            var now = time.GetUtcNow();
            var touched = new HashSet<(Guid?, Guid)>();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            foreach (var e in events)
            {
                // Claimed by the one pass whose update finds it still new: another portal's pass skips it.
                if (await db.WebhookEvents.Where(x => x.Sequence == e.Sequence && !x.FannedOut).ExecuteUpdateAsync(u => u.SetProperty(x => x.FannedOut, true), ct) == 0)
                    continue;
                foreach (var s in subscriptions.Where(s => (s.TenantId is null || s.TenantId == e.TenantId) && WebhookEventTypes.Matches(WebhookEventTypes.Parse(s.Events), e.Type)))
                {
                    db.WebhookDeliveries.Add(new WebhookDelivery
                    {
                        Id = Guid.CreateVersion7(now), SubscriptionId = s.Id, EventSequence = e.Sequence, EntityId = e.EntityId,
                        State = WebhookDeliveryState.Pending, NextAttemptAt = now, CreatedAt = now,
                    });
                    touched.Add((s.TenantId, s.Id));
                }
            }

            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            foreach (var (tenantId, id) in touched)
                live.Publish(new WebhookChanged(tenantId, id));
        }
    }

    /// <summary>
    /// The deliveries to try now: pending and due, of an enabled subscription that is not failing (test events go
    /// and redeliveries go anyway), with no earlier pending delivery of the same entity to the same subscription.
    /// </summary>
    private async Task<List<WebhookDelivery>> DueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now)
            .Where(d => db.WebhookSubscriptions.Any(s => s.Id == d.SubscriptionId && s.Enabled && (s.State == WebhookSubscriptionState.Active || d.IsTest || d.IsRedelivery)))
            .Where(d => !db.WebhookDeliveries.Any(e => e.SubscriptionId == d.SubscriptionId && e.EntityId == d.EntityId
                && e.State == WebhookDeliveryState.Pending && (e.EventSequence < d.EventSequence || (e.EventSequence == d.EventSequence && e.Id.CompareTo(d.Id) < 0))))
            .OrderBy(d => d.EventSequence).Take(Batch).ToListAsync(ct);
    }

    private async Task<int> SendAllAsync(List<WebhookDelivery> deliveries, CancellationToken ct)
    {
        var sent = 0;
        foreach (var delivery in deliveries)
        {
            if (await SendAsync(delivery, ct))
                sent++;
        }

        return sent;
    }

    /// <summary>Claims, sends and records one attempt; false when another pass claimed it first.</summary>
    private async Task<bool> SendAsync(WebhookDelivery due, CancellationToken ct)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        WebhookSubscription? subscription;
        WebhookEvent? webhookEvent;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var claimed = await db.WebhookDeliveries
                .Where(d => d.Id == due.Id && d.State == WebhookDeliveryState.Pending && d.NextAttemptAt == due.NextAttemptAt)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.NextAttemptAt, now + settings.Timeout + ClaimMargin).SetProperty(d => d.Attempts, d => d.Attempts + 1), ct);
            if (claimed == 0)
                return false;
            subscription = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == due.SubscriptionId, ct);
            webhookEvent = await db.WebhookEvents.AsNoTracking().FirstOrDefaultAsync(e => e.Sequence == due.EventSequence, ct);
        }

        if (subscription is null || webhookEvent is null)
            return false;
        var attempt = due.Attempts + 1;
        var (status, error, elapsed) = await AttemptAsync(subscription, webhookEvent, due.Id, ct);
        await RecordAsync(due.Id, subscription, webhookEvent, attempt, status, error, elapsed, ct);
        return true;
    }

    private async Task<(int? Status, string? Error, TimeSpan Elapsed)> AttemptAsync(WebhookSubscription subscription, WebhookEvent webhookEvent, Guid deliveryId, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (!secrets.TryUnprotect(subscription.ProtectedSecret, out var secret))
            return (null, WebhookSecrets.Unreadable, TimeSpan.Zero);
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(webhookEvent.Payload, Encoding.UTF8, "application/json"),
        };
        var at = time.GetUtcNow();
        var id = webhookEvent.Id.ToString();
        request.Headers.Add(WebhookSigner.IdHeader, id);
        request.Headers.Add(WebhookSigner.TimestampHeader, WebhookSigner.Timestamp(at));
        request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(secret, id, at, webhookEvent.Payload));
        request.Headers.Add("X-VirtPortal-Delivery", deliveryId.ToString());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return (status, response.IsSuccessStatusCode ? null : $"The receiver answered {status} {response.ReasonPhrase}.", Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"No answer within {options.Value.Timeout.TotalSeconds:0.#} seconds.", Stopwatch.GetElapsedTime(started));
        }
        catch (HttpRequestException e)
        {
            var refused = e.InnerException as WebhookTargetRefusedException;
            return (null, refused?.Message ?? $"The receiver could not be reached: {e.Message}", Stopwatch.GetElapsedTime(started));
        }
    }

    private async Task RecordAsync(Guid deliveryId, WebhookSubscription subscription, WebhookEvent webhookEvent, int attempt, int? status, string? error, TimeSpan elapsed, CancellationToken ct)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var delivery = await db.WebhookDeliveries.FirstAsync(d => d.Id == deliveryId, ct);
        var tracked = await db.WebhookSubscriptions.FirstOrDefaultAsync(s => s.Id == subscription.Id, ct);
        delivery.LastAttemptAt = now;
        delivery.ResponseStatus = status;
        delivery.DurationMs = (int)Math.Min(elapsed.TotalMilliseconds, int.MaxValue);
        delivery.LastError = error is { Length: > 500 } ? error[..499] + "…" : error;
        var notifications = new List<Notification>();
        if (error is null)
        {
            delivery.State = WebhookDeliveryState.Succeeded;
            delivery.DeliveredAt = now;
            if (tracked is { State: WebhookSubscriptionState.Failing })
            {
                tracked.State = WebhookSubscriptionState.Active;
                tracked.FailingSince = null;
                tracked.Version++;
            }

            LogDelivered(webhookEvent.Type, subscription.Id, status ?? 0, attempt);
        }
        else if (attempt >= settings.MaxAttempts)
        {
            delivery.State = WebhookDeliveryState.Failed;
            if (tracked is { State: WebhookSubscriptionState.Active } && !delivery.IsTest)
            {
                tracked.State = WebhookSubscriptionState.Failing;
                tracked.FailingSince = now;
                tracked.Version++;
                db.Record(time, Actor.System, AuditActions.WebhookFailing, $"webhook {tracked.Id}", tracked.TenantId,
                    $"event {webhookEvent.Id} ({webhookEvent.Type}) failed {attempt} times: {delivery.LastError}");
                notifications.AddRange(await NotifyOwnersAsync(db, tracked, attempt, delivery.LastError!, ct));
            }

            LogFailed(webhookEvent.Type, subscription.Id, attempt, error);
        }
        else
        {
            delivery.NextAttemptAt = now + settings.RetryDelay(attempt, Random.Shared.NextDouble());
            LogRetry(webhookEvent.Type, subscription.Id, attempt, error);
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Its owner saved the subscription meanwhile (which resumes it): the delivery's outcome still counts, the
            // subscription's new state and what would have said so do not.
            db.Entry(tracked!).State = EntityState.Unchanged;
            foreach (var entry in db.ChangeTracker.Entries().Where(e => e.State == EntityState.Added).ToList())
                entry.State = EntityState.Detached;
            notifications.Clear();
            await db.SaveChangesAsync(ct);
        }

        foreach (var notification in notifications)
            live.Publish(new NotificationAdded(notification.UserId, notification.Id));
        live.Publish(new WebhookChanged(subscription.TenantId, subscription.Id));
    }

    /// <summary>A tenant subscription's owners are its tenant's owners; a portal-wide one's, the admins.</summary>
    private async Task<List<Notification>> NotifyOwnersAsync(PortalDbContext db, WebhookSubscription subscription, int attempts, string error, CancellationToken ct)
    {
        var users = subscription.TenantId is { } tenant
            ? await db.TenantMemberships.Where(m => m.TenantId == tenant && m.Role == TenantRole.Owner).Select(m => m.UserId).ToListAsync(ct)
            : await db.UserIdsInRoleAsync(GlobalRoles.Admin, ct);
        var text = $"The webhook to {subscription.Url} failed {attempts} times and is paused: {error} Send a test event once it is fixed.";
        return [.. users.Distinct().Select(user => NotificationService.Add(db, time, user, NotificationKind.WebhookFailing, text, WebhookRoutes.Subscription(subscription.Id), subscription.TenantId))];
    }

    public void Dispose() => http.Dispose();

    [LoggerMessage(LogLevel.Information, "Webhook {EventType} delivered to subscription {SubscriptionId}: {Status} on attempt {Attempt}")]
    private partial void LogDelivered(string eventType, Guid subscriptionId, int status, int attempt);

    [LoggerMessage(LogLevel.Warning, "Webhook {EventType} to subscription {SubscriptionId} failed attempt {Attempt}, retrying: {Error}")]
    private partial void LogRetry(string eventType, Guid subscriptionId, int attempt, string error);

    [LoggerMessage(LogLevel.Warning, "Webhook {EventType} to subscription {SubscriptionId} failed for good after {Attempt} attempts: {Error}")]
    private partial void LogFailed(string eventType, Guid subscriptionId, int attempt, string error);
}

/// <summary>The portal's page of a subscription, for notification links (the web host's routes say the same).</summary>
public static class WebhookRoutes
{
    public const string List = "/webhooks";

    public static string Subscription(Guid id) => $"/webhooks/{id}";
}
