namespace VirtPortal.Core.Audit;

/// <summary>One thing that happened, who did it and to what. Written in the same transaction as the change.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    public required string ActorId { get; set; }

    public required string ActorName { get; set; }

    public required string Action { get; set; }

    public Guid? TenantId { get; set; }

    /// <summary>What was acted on, in words ("user ada@example.com", "tenant Acme").</summary>
    public string Target { get; set; } = "";

    public string Details { get; set; } = "";
}
