namespace VirtPortal.Core.Webhooks;

public enum WebhookDeliveryState
{
    /// <summary>Waiting for its (next) attempt.</summary>
    Pending = 0,

    /// <summary>The receiver answered 2xx.</summary>
    Succeeded = 1,

    /// <summary>Every attempt failed; a redelivery sends it again.</summary>
    Failed = 2,
}

/// <summary>One event to one subscription: its attempts, the last answer and when it is tried next.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }

    public Guid SubscriptionId { get; set; }

    public long EventSequence { get; set; }

    public WebhookEvent? Event { get; set; }

    /// <summary>The event's entity, copied so that "the earlier deliveries of this entity" is one indexed query.</summary>
    public Guid EntityId { get; set; }

    public WebhookDeliveryState State { get; set; }

    public int Attempts { get; set; }

    /// <summary>When it may be tried (next); while an attempt runs, when that attempt's claim ends.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>The HTTP status of the last answer; null when none came (refused, timed out).</summary>
    public int? ResponseStatus { get; set; }

    /// <summary>How long the last attempt took, in milliseconds.</summary>
    public int? DurationMs { get; set; }

    /// <summary>Why the last attempt failed, in the portal's words.</summary>
    public string? LastError { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>A test event: sent even while the subscription is failing, so its owner can check a fix.</summary>
    public bool IsTest { get; set; }

    /// <summary>Made by a redelivery of an earlier delivery of the same event.</summary>
    public bool IsRedelivery { get; set; }
}
