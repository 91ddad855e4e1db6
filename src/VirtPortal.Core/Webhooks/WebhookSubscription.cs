namespace VirtPortal.Core.Webhooks;

/// <summary>Whether a subscription is being delivered to.</summary>
public enum WebhookSubscriptionState
{
    /// <summary>Deliveries go out.</summary>
    Active = 0,

    /// <summary>
    /// A delivery used up its attempts: the owners were told and nothing more is sent (test events aside) until
    /// a delivery succeeds again (a test event or a redelivery) or the owner saves the subscription.
    /// </summary>
    Failing = 1,
}

/// <summary>
/// Where a tenant (or, with no tenant, the portal) wants to be told of changes: a URL, the event types it
/// wants (<see cref="WebhookEventTypes"/>) and the secret its deliveries are signed with, protected at rest.
/// </summary>
public sealed class WebhookSubscription
{
    public Guid Id { get; set; }

    /// <summary>The tenant whose events it gets; null: a portal-wide subscription (admins'), which gets every event.</summary>
    public Guid? TenantId { get; set; }

    public required string Url { get; set; }

    public string Description { get; set; } = "";

    /// <summary>The event type patterns, comma-separated ("resource.*,request.completed").</summary>
    public required string Events { get; set; }

    /// <summary>The signing secret (<c>whsec_…</c>), protected by <see cref="WebhookSecrets"/>.</summary>
    public required string ProtectedSecret { get; set; }

    /// <summary>The secret's first characters, to recognize it by.</summary>
    public string SecretHint { get; set; } = "";

    /// <summary>Switched off by its owner: no new deliveries are made for it.</summary>
    public bool Enabled { get; set; } = true;

    public WebhookSubscriptionState State { get; set; }

    public DateTimeOffset? FailingSince { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Bumped on every change by its owner or by delivery (failing, recovered); the API's ETag.</summary>
    public long Version { get; set; }
}
