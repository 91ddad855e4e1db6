namespace VirtPortal.Core.Webhooks;

/// <summary>
/// One change, in the outbox: written by <see cref="WebhookOutboxInterceptor"/> in the same SaveChanges (so the
/// same transaction) as the change itself, with its payload as it will be sent. The dispatcher then makes a
/// <see cref="WebhookDelivery"/> for each subscription that wants it (<see cref="FannedOut"/>).
/// </summary>
public sealed class WebhookEvent
{
    /// <summary>The outbox order: deliveries of one entity go out in this order.</summary>
    public long Sequence { get; set; }

    /// <summary>The event's id, sent as <c>webhook-id</c> and in the payload: the same on every attempt and redelivery.</summary>
    public Guid Id { get; set; }

    public required string Type { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>request, vm, database, host, database_server, or webhook for test events.</summary>
    public required string EntityKind { get; set; }

    public Guid EntityId { get; set; }

    public Guid? TenantId { get; set; }

    /// <summary>The JSON body every delivery of it sends.</summary>
    public required string Payload { get; set; }

    /// <summary>Whether its deliveries were made (test events are made with their one delivery).</summary>
    public bool FannedOut { get; set; }
}
