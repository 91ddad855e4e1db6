namespace VirtPortal.Core.Notifications;

public enum NotificationKind
{
    RequestDecided = 0,
    LeaseWarning = 1,
    ProvisioningFinished = 2,
    ProvisioningFailed = 3,
    ApprovalNeeded = 4,

    /// <summary>For admins: an operation failed on the host side (refused, no answer, timed out).</summary>
    HostFailure = 5,

    /// <summary>For a webhook subscription's owners: a delivery used up its attempts and the subscription is paused.</summary>
    WebhookFailing = 6,
}

/// <summary>One entry in a user's notification centre (the bell).</summary>
public sealed class Notification
{
    public long Id { get; set; }

    public required string UserId { get; set; }

    public Guid? TenantId { get; set; }

    public NotificationKind Kind { get; set; }

    public DateTimeOffset At { get; set; }

    public required string Text { get; set; }

    /// <summary>App-relative link to what it is about.</summary>
    public string Link { get; set; } = "";

    public DateTimeOffset? ReadAt { get; set; }
}
