using System.ComponentModel;
using VirtPortal.Core.Live;

namespace VirtPortal.Core.Webhooks;

/// <summary>A subscription as its owner writes it.</summary>
public sealed record WebhookDraft(
    [property: Description("Where events are POSTed: an http(s) URL of a public address.")] string Url,
    [property: Description("Event type patterns: request.completed, resource.*, *.failed, or * for all.")] IReadOnlyList<string> Events,
    [property: Description("What it is for.")] string? Description = null,
    [property: Description("False pauses it: no deliveries are made meanwhile.")] bool Enabled = true);

/// <summary>A subscription as pages and the API show it: never its secret, only the secret's first characters.</summary>
public sealed record WebhookView(
    Guid Id, Guid? TenantId, string? TenantName, string Url, string Description, IReadOnlyList<string> Events, bool Enabled,
    WebhookSubscriptionState State, DateTimeOffset? FailingSince, string SecretHint, DateTimeOffset CreatedAt, long Version);

/// <summary>A subscription just made (or given a new secret): the secret is in this answer only.</summary>
public sealed record CreatedWebhook(WebhookView Subscription, string Secret);

/// <summary>One delivery in the log.</summary>
public sealed record WebhookDeliveryView(
    Guid Id, Guid SubscriptionId, Guid EventId, string EventType, string EntityKind, Guid EntityId, WebhookDeliveryState State, int Attempts,
    DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt, int? ResponseStatus, int? DurationMs,
    string? LastError, DateTimeOffset? DeliveredAt, bool IsTest, bool IsRedelivery);

/// <summary>A subscription or one of its deliveries changed; for its delivery log and the list of subscriptions.</summary>
public sealed record WebhookChanged(Guid? TenantId, Guid SubscriptionId) : LiveMessage(TenantId, SubscriptionId, 0);
