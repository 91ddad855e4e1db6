using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Requests;

public enum RequestKind
{
    NewVm = 0,
    NewDatabase = 1,
    ResizeVm = 2,
    ExtendLease = 3,
    QuotaIncrease = 4,
}

public enum RequestState
{
    Submitted = 0,
    PendingApproval = 1,
    Approved = 2,
    Provisioning = 3,
    Completed = 4,
    Rejected = 5,
    Failed = 6,
    Cancelled = 7,
    Expired = 8,
}

/// <summary>What a request adds to the tenant's usage (resize: the difference; quota increase: nothing).</summary>
public sealed record ResourceDemand
{
    public int VCpus { get; init; }

    public int RamMiB { get; init; }

    public int DiskGiB { get; init; }

    public int Vms { get; init; }

    public int Databases { get; init; }

    public static ResourceDemand None { get; } = new();

    /// <summary>What the given resources hold together.</summary>
    public static ResourceDemand Of(IReadOnlyCollection<(Resources.ResourceKind Kind, int VCpus, int RamMiB, int DiskGiB)> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        return new ResourceDemand
        {
            VCpus = held.Sum(r => r.VCpus),
            RamMiB = held.Sum(r => r.RamMiB),
            DiskGiB = held.Sum(r => r.DiskGiB),
            Vms = held.Count(r => r.Kind == Resources.ResourceKind.Vm),
            Databases = held.Count(r => r.Kind == Resources.ResourceKind.Database),
        };
    }
}

/// <summary>
/// One request of any kind, with one state machine (<see cref="RequestStateMachine"/>). Every change
/// of <see cref="State"/> is a transaction that also writes a <see cref="RequestEvent"/> and an audit entry.
/// </summary>
public sealed class Request
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string RequesterId { get; set; }

    public required string RequesterName { get; set; }

    public RequestKind Kind { get; set; }

    public RequestState State { get; set; }

    /// <summary>Name of the new VM or database; the target's name for resize and lease extension.</summary>
    public string Name { get; set; } = "";

    public Guid? TemplateId { get; set; }

    public Guid? SizeId { get; set; }

    public Guid? OfferingId { get; set; }

    /// <summary>For a new database: the backup to restore into it.</summary>
    public Guid? RestoreFromBackupId { get; set; }

    /// <summary>Lease length for new resources; extension length for lease extensions.</summary>
    public int LeaseDays { get; set; }

    /// <summary>The existing resource a resize or extension is for; the created one for new resources.</summary>
    public Guid? ResourceId { get; set; }

    public ResourceDemand Demand { get; set; } = new();

    /// <summary>The quota asked for by a quota-increase request.</summary>
    public TenantQuota? RequestedQuota { get; set; }

    public decimal MonthlyCost { get; set; }

    public string Justification { get; set; } = "";

    /// <summary>1-based approval stage while pending; 0 before and after.</summary>
    public int CurrentStage { get; set; }

    public int StageCount { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    public DateTimeOffset? ApprovalDeadline { get; set; }

    public bool Escalated { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }

    /// <summary>Why it was rejected, failed, cancelled or expired; for a failure, the plain sentence members read.</summary>
    public string? Reason { get; set; }

    /// <summary>The class of a provisioning failure (None otherwise).</summary>
    public Provisioning.FailureKind FailureKind { get; set; }

    /// <summary>A provisioning failure in the hypervisor's own words: for admins and helpdesk, never shown to members.</summary>
    public string? FailureDetail { get; set; }

    public long Version { get; set; }

    public List<RequestEvent> Timeline { get; set; } = [];

    public List<RequestApproval> Approvals { get; set; } = [];
}

/// <summary>One line of a request's timeline: who moved it where, when and why.</summary>
public sealed class RequestEvent
{
    public long Id { get; set; }

    public Guid RequestId { get; set; }

    public DateTimeOffset At { get; set; }

    public required string ActorId { get; set; }

    public required string ActorName { get; set; }

    public RequestState? From { get; set; }

    public RequestState To { get; set; }

    public string Message { get; set; } = "";
}

/// <summary>An approver's yes within a stage (a stage in "all of" mode needs one from each approver).</summary>
public sealed class RequestApproval
{
    public Guid RequestId { get; set; }

    public int Stage { get; set; }

    public required string ApproverId { get; set; }

    public DateTimeOffset At { get; set; }
}
