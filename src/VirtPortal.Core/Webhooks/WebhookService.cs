using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Webhook subscriptions and their delivery logs, for pages and the API alike. A tenant's subscriptions are its
/// owners' (and admins'), portal-wide ones admins'; helpdesk reads both. Each call asks the access service on the
/// subscription's tenant, or on the portal for a portal-wide or unknown one (refused alike).
/// </summary>
public sealed class WebhookService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, WebhookSecrets secrets, WebhookTargets targets, WebhookSignal signal,
    IOptions<WebhookOptions> options, LiveUpdates live, TimeProvider time)
{
    public const int DescriptionMaxLength = 200;

    /// <summary>The subscriptions the actor sees: of one tenant, or every one they may see (portal-wide ones for staff).</summary>
    [Requires(Permission.WebhooksView, AccessTargetKind.Tenant)]
    public async Task<IReadOnlyList<WebhookView>> ListAsync(Actor actor, Guid? tenantId, CancellationToken ct = default)
    {
        var scope = await access.ScopeAsync(actor, Permission.WebhooksView, tenantId, "list webhooks", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.WebhookSubscriptions.AsNoTracking();
        if (tenantId is { } only)
            query = query.Where(s => s.TenantId == only);
        else if (!scope.All)
            query = query.Where(s => s.TenantId != null && scope.TenantIds.Contains(s.TenantId.Value));
        var rows = await query.OrderByDescending(s => s.Id).ToListAsync(ct);
        return await ViewsAsync(db, rows, ct);
    }

    /// <summary>One subscription (on its tenant, or the portal for a portal-wide one).</summary>
    [Requires(Permission.WebhooksView)]
    public async Task<WebhookView> GetAsync(Actor actor, Guid subscriptionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var subscription = await RequireAsync(db, actor, Permission.WebhooksView, subscriptionId, "see webhook", ct);
        return (await ViewsAsync(db, [subscription], ct))[0];
    }

    /// <summary>A new subscription of the tenant (null: portal-wide, admins only); the answer holds its secret, once.</summary>
    [Requires(Permission.WebhooksManage, AccessTargetKind.Tenant)]
    public async Task<CreatedWebhook> CreateAsync(Actor actor, Guid? tenantId, WebhookDraft draft, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.WebhooksManage, tenantId is { } t ? AccessTarget.Tenant(t) : AccessTarget.Portal, "create webhook", ct);
        ArgumentNullException.ThrowIfNull(draft);
        var (url, events, description) = await ValidateAsync(draft, tenantId is null, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.WebhookSubscriptions.CountAsync(s => s.TenantId == tenantId, ct) >= options.Value.MaxSubscriptions)
            throw new PortalValidationException("", $"{(tenantId is null ? "The portal" : "This tenant")} has {options.Value.MaxSubscriptions} webhooks already, the most it may have. Delete one first.");
        var now = time.GetUtcNow();
        var secret = WebhookSigner.NewSecret();
        var subscription = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(now), TenantId = tenantId, Url = url, Events = string.Join(',', events), Description = description,
            ProtectedSecret = secrets.Protect(secret), SecretHint = Hint(secret), Enabled = draft.Enabled, CreatedBy = actor.UserId, CreatedAt = now, Version = 1,
        };
        db.WebhookSubscriptions.Add(subscription);
        db.Record(time, actor, AuditActions.WebhookCreated, $"webhook {subscription.Id}", tenantId, $"{url} for {subscription.Events}");
        await db.SaveChangesAsync(ct);
        live.Publish(new WebhookChanged(tenantId, subscription.Id));
        return new CreatedWebhook((await ViewsAsync(db, [subscription], ct))[0], secret);
    }

    /// <summary>
    /// Changes the URL, events, description and whether it is enabled; saving a failing subscription resumes it
    /// (its waiting deliveries go out, oldest first). <paramref name="expectedVersion"/> is the API's If-Match.
    /// </summary>
    [Requires(Permission.WebhooksManage)]
    public async Task<WebhookView> UpdateAsync(Actor actor, Guid subscriptionId, WebhookDraft draft, long? expectedVersion, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var subscription = await RequireAsync(db, actor, Permission.WebhooksManage, subscriptionId, "change webhook", ct);
        ArgumentNullException.ThrowIfNull(draft);
        PortalConcurrencyException.ThrowIfStale(expectedVersion, subscription.Version, "The webhook");
        var (url, events, description) = await ValidateAsync(draft, subscription.TenantId is null, ct);
        subscription.Url = url;
        subscription.Events = string.Join(',', events);
        subscription.Description = description;
        subscription.Enabled = draft.Enabled;
        subscription.State = WebhookSubscriptionState.Active;
        subscription.FailingSince = null;
        subscription.Version++;
        db.Record(time, actor, AuditActions.WebhookChanged, $"webhook {subscription.Id}", subscription.TenantId,
            $"{url} for {subscription.Events}, {(draft.Enabled ? "enabled" : "disabled")}");
        await SaveAsync(db, ct);
        live.Publish(new WebhookChanged(subscription.TenantId, subscription.Id));
        signal.Kick();
        return (await ViewsAsync(db, [subscription], ct))[0];
    }

    /// <summary>A new signing secret, in this answer only; deliveries from now on are signed with it.</summary>
    [Requires(Permission.WebhooksManage)]
    public async Task<CreatedWebhook> RotateSecretAsync(Actor actor, Guid subscriptionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var subscription = await RequireAsync(db, actor, Permission.WebhooksManage, subscriptionId, "rotate webhook secret", ct);
        var secret = WebhookSigner.NewSecret();
        subscription.ProtectedSecret = secrets.Protect(secret);
        subscription.SecretHint = Hint(secret);
        subscription.Version++;
        db.Record(time, actor, AuditActions.WebhookSecretRotated, $"webhook {subscription.Id}", subscription.TenantId);
        await SaveAsync(db, ct);
        live.Publish(new WebhookChanged(subscription.TenantId, subscription.Id));
        return new CreatedWebhook((await ViewsAsync(db, [subscription], ct))[0], secret);
    }

    /// <summary>Deletes the subscription and its delivery log; what was still waiting is not sent.</summary>
    [Requires(Permission.WebhooksManage)]
    public async Task DeleteAsync(Actor actor, Guid subscriptionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var subscription = await RequireAsync(db, actor, Permission.WebhooksManage, subscriptionId, "delete webhook", ct);
        db.WebhookSubscriptions.Remove(subscription);
        db.Record(time, actor, AuditActions.WebhookDeleted, $"webhook {subscription.Id}", subscription.TenantId, subscription.Url);
        await db.SaveChangesAsync(ct);
        live.Publish(new WebhookChanged(subscription.TenantId, subscription.Id));
    }

    /// <summary>The subscription's deliveries, newest first.</summary>
    [Requires(Permission.WebhooksView)]
    public async Task<Page<WebhookDeliveryView>> DeliveriesAsync(Actor actor, Guid subscriptionId, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireAsync(db, actor, Permission.WebhooksView, subscriptionId, "see webhook deliveries", ct);
        var limit = page.Checked;
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == subscriptionId);
        if (page.After is { } after)
            query = query.Where(d => d.Id.CompareTo(after) < 0);
        var rows = await query.OrderByDescending(d => d.Id).Take(limit + 1).Include(d => d.Event).ToListAsync(ct);
        return Paging.Of([.. rows.Select(View)], page, d => d.Id);
    }

    /// <summary>One delivery (asked on its subscription).</summary>
    [Requires(Permission.WebhooksView)]
    public async Task<WebhookDeliveryView> GetDeliveryAsync(Actor actor, Guid deliveryId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var delivery = await db.WebhookDeliveries.AsNoTracking().Include(d => d.Event).FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
        await RequireAsync(db, actor, Permission.WebhooksView, delivery?.SubscriptionId ?? Guid.Empty, "see webhook delivery", ct);
        return View(delivery!);
    }

    /// <summary>Queues a <c>webhook.test</c> event to this subscription alone; it goes even while the subscription is failing.</summary>
    [Requires(Permission.WebhooksManage)]
    public async Task<WebhookDeliveryView> SendTestAsync(Actor actor, Guid subscriptionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var subscription = await RequireAsync(db, actor, Permission.WebhooksManage, subscriptionId, "test webhook", ct);
        if (!subscription.Enabled)
            throw new PortalValidationException(nameof(WebhookDraft.Enabled), "The webhook is disabled: enable it first, a disabled webhook is sent nothing.");
        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var payload = new WebhookPayload(id, WebhookEventTypes.Test, now, subscription.TenantId, new WebhookActor(actor.UserId, actor.Name), null,
            new WebhookEntity("webhook", subscription.Id, subscription.Version), new Dictionary<string, object?> { ["message"] = "A test event from VirtPortal." });
        var webhookEvent = new WebhookEvent
        {
            Id = id, Type = WebhookEventTypes.Test, OccurredAt = now, EntityKind = "webhook", EntityId = subscription.Id, TenantId = subscription.TenantId,
            Payload = payload.ToJson(), FannedOut = true,
        };
        var delivery = new WebhookDelivery
        {
            Id = Guid.CreateVersion7(now), SubscriptionId = subscription.Id, Event = webhookEvent, EntityId = subscription.Id, State = WebhookDeliveryState.Pending,
            NextAttemptAt = now, CreatedAt = now, IsTest = true,
        };
        db.WebhookDeliveries.Add(delivery);
        db.Record(time, actor, AuditActions.WebhookTestSent, $"webhook {subscription.Id}", subscription.TenantId);
        await db.SaveChangesAsync(ct);
        signal.Kick();
        live.Publish(new WebhookChanged(subscription.TenantId, subscription.Id));
        return View(delivery);
    }

    /// <summary>
    /// Sends a delivery's event again, as a new delivery with the same event id (receivers that handled it already
    /// recognize it). It goes before newer events of the same entity that still wait, as the original did.
    /// </summary>
    [Requires(Permission.WebhooksManage)]
    public async Task<WebhookDeliveryView> RedeliverAsync(Actor actor, Guid deliveryId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var original = await db.WebhookDeliveries.AsNoTracking().Include(d => d.Event).FirstOrDefaultAsync(d => d.Id == deliveryId, ct);
        var subscription = await RequireAsync(db, actor, Permission.WebhooksManage, original?.SubscriptionId ?? Guid.Empty, "redeliver webhook", ct);
        if (original!.State == WebhookDeliveryState.Pending)
            throw new PortalValidationException("", "This delivery is still being sent: redeliver it once it succeeded or failed.");
        if (!subscription.Enabled)
            throw new PortalValidationException(nameof(WebhookDraft.Enabled), "The webhook is disabled: enable it first, a disabled webhook is sent nothing.");
        var now = time.GetUtcNow();
        var delivery = new WebhookDelivery
        {
            Id = Guid.CreateVersion7(now), SubscriptionId = subscription.Id, EventSequence = original.EventSequence, EntityId = original.EntityId,
            State = WebhookDeliveryState.Pending, NextAttemptAt = now, CreatedAt = now, IsTest = original.IsTest, IsRedelivery = true,
        };
        db.WebhookDeliveries.Add(delivery);
        db.Record(time, actor, AuditActions.WebhookRedelivered, $"webhook {subscription.Id}", subscription.TenantId, $"event {original.Event!.Id} ({original.Event.Type})");
        await db.SaveChangesAsync(ct);
        signal.Kick();
        live.Publish(new WebhookChanged(subscription.TenantId, subscription.Id));
        delivery.Event = original.Event;
        return View(delivery);
    }

    /// <summary>Loads the subscription (tracked) and asks on its tenant, or on the portal for a portal-wide or unknown one.</summary>
    private async Task<WebhookSubscription> RequireAsync(PortalDbContext db, Actor actor, Permission permission, Guid subscriptionId, string what, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var subscription = await db.WebhookSubscriptions.FirstOrDefaultAsync(s => s.Id == subscriptionId, ct);
        await access.RequireAsync(db, actor, permission, subscription?.TenantId is { } tenant ? AccessTarget.Tenant(tenant) : AccessTarget.Portal, what, ct);
        return subscription ?? throw new PortalNotFoundException("This webhook does not exist.");
    }

    private async Task<(string Url, IReadOnlyList<string> Events, string Description)> ValidateAsync(WebhookDraft draft, bool portalWide, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (await targets.ProblemAsync(draft.Url, ct) is { } urlProblem)
            errors[nameof(WebhookDraft.Url)] = [urlProblem];
        var events = (draft.Events ?? []).Select(e => (e ?? "").Trim()).Where(e => e.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (events.Count == 0)
            errors[nameof(WebhookDraft.Events)] = ["Choose at least one event type (resource.*, request.completed, * for all)."];
        else if (events.Count > WebhookEventTypes.MaxPatterns)
            errors[nameof(WebhookDraft.Events)] = [$"Choose at most {WebhookEventTypes.MaxPatterns} event types; use * patterns to cover more."];
        else if (events.Select(e => WebhookEventTypes.Problem(e, portalWide)).FirstOrDefault(p => p is not null) is { } eventProblem)
            errors[nameof(WebhookDraft.Events)] = [eventProblem];
        var description = (draft.Description ?? "").Trim();
        if (description.Length > DescriptionMaxLength)
            errors[nameof(WebhookDraft.Description)] = [$"Use at most {DescriptionMaxLength} characters."];
        if (errors.Count > 0)
            throw new PortalValidationException(errors);
        return (draft.Url.Trim(), events, description);
    }

    /// <summary>Saves a change of the owner; a delivery that changed the subscription meanwhile (failing, recovered) makes it a 412, as a stale If-Match does.</summary>
    private static Task SaveAsync(PortalDbContext db, CancellationToken ct) =>
        PortalConcurrencyException.SaveVersionedAsync(() => db.SaveChangesAsync(ct), "The webhook");

    private static async Task<IReadOnlyList<WebhookView>> ViewsAsync(PortalDbContext db, IReadOnlyList<WebhookSubscription> rows, CancellationToken ct)
    {
        var tenantIds = rows.Where(r => r.TenantId is not null).Select(r => r.TenantId!.Value).Distinct().ToList();
        var names = await db.Tenants.AsNoTracking().Where(t => tenantIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        return [.. rows.Select(s => new WebhookView(
            s.Id, s.TenantId, s.TenantId is { } t ? names.GetValueOrDefault(t) : null, s.Url, s.Description, WebhookEventTypes.Parse(s.Events), s.Enabled,
            s.State, s.FailingSince, s.SecretHint, s.CreatedAt, s.Version))];
    }

    internal static WebhookDeliveryView View(WebhookDelivery d) => new(
        d.Id, d.SubscriptionId, d.Event!.Id, d.Event.Type, d.Event.EntityKind, d.EntityId, d.State, d.Attempts, d.CreatedAt, d.LastAttemptAt,
        d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : null, d.ResponseStatus, d.DurationMs, d.LastError, d.DeliveredAt, d.IsTest, d.IsRedelivery);

    private static string Hint(string secret) => secret[..(WebhookSigner.SecretPrefix.Length + 4)] + "…";
}
