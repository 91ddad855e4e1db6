namespace VirtPortal.Core.Provisioning;

/// <summary>The lifecycle words of libvirt and virsh, used in code, API and audit alike.</summary>
public enum OperationKind
{
    Create = 0,
    Start = 1,
    Shutdown = 2,
    ForceOff = 3,
    Reboot = 4,
    Suspend = 5,
    Resume = 6,
    Resize = 7,
    Delete = 8,

    /// <summary>A database's owner gets a new password, shown once.</summary>
    RotatePassword = 9,

    /// <summary>A database is written to a backup file.</summary>
    Backup = 10,
}

public enum OperationState
{
    Pending = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

/// <summary>
/// One unit of work for the provisioning worker: a durable queue row, written in the same transaction
/// as the decision that causes it, claimed with a time-limited lease.
/// </summary>
public sealed class Operation
{
    public Guid Id { get; set; }

    public Guid ResourceId { get; set; }

    public Guid TenantId { get; set; }

    public OperationKind Kind { get; set; }

    public OperationState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public Guid? RequestId { get; set; }

    /// <summary>Who caused it: a user id, or "system" for leases and policies.</summary>
    public required string RequestedBy { get; set; }

    /// <summary>New size for Resize: vCPUs and RAM.</summary>
    public int? TargetVCpus { get; set; }

    public int? TargetRamMiB { get; set; }

    /// <summary>The backup a Backup operation writes.</summary>
    public Guid? BackupId { get; set; }

    public int Attempts { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    public DateTimeOffset? NotBefore { get; set; }

    public string? LastError { get; set; }

    /// <summary>The class of the failure once <see cref="State"/> is Failed.</summary>
    public FailureKind FailureKind { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>A pending operation on <paramref name="resource"/>, queued now.</summary>
    public static Operation Queue(Resources.Resource resource, OperationKind kind, string requestedBy, DateTimeOffset now, Guid? requestId = null)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return new Operation
        {
            Id = Guid.CreateVersion7(now),
            ResourceId = resource.Id,
            TenantId = resource.TenantId,
            Kind = kind,
            State = OperationState.Pending,
            CreatedAt = now,
            RequestId = requestId,
            RequestedBy = requestedBy,
        };
    }
}
