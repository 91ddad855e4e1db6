namespace VirtPortal.Core.Resources;

public enum ResourceKind
{
    Vm = 0,
    Database = 1,
}

/// <summary>
/// libvirt's domain states plus the portal's own. Databases use Provisioning, Running, Deleting,
/// Deleted, Expired and Unknown.
/// </summary>
public enum ResourceState
{
    Provisioning = 0,
    Running = 1,
    Paused = 2,
    Shutoff = 3,
    Crashed = 4,
    PMSuspended = 5,
    Deleting = 6,
    Deleted = 7,
    Unknown = 8,
    Expired = 9,
    Failed = 10,
}

/// <summary>A VM or database a tenant owns. Its id is also its hypervisor UUID.</summary>
public sealed class Resource
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public ResourceKind Kind { get; set; }

    public required string Name { get; set; }

    public Guid? TemplateId { get; set; }

    public Guid? SizeId { get; set; }

    public Guid? OfferingId { get; set; }

    public int VCpus { get; set; }

    public int RamMiB { get; set; }

    public int DiskGiB { get; set; }

    public decimal HourlyPrice { get; set; }

    /// <summary>The state the portal wants (from requests and actions); see <see cref="ObservedState"/> for what the host says.</summary>
    public ResourceState State { get; set; }

    /// <summary>What its host last reported (Unknown while the host does not answer); null until a host has reported.</summary>
    public ResourceState? ObservedState { get; set; }

    /// <summary>When the host last confirmed <see cref="ObservedState"/>.</summary>
    public DateTimeOffset? ObservedAt { get; set; }

    /// <summary>Since when the host has reported <see cref="ObservedState"/>.</summary>
    public DateTimeOffset? ObservedSince { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LeaseEndsAt { get; set; }

    /// <summary>How often the lease was extended; the first extension may auto-approve.</summary>
    public int LeaseExtensions { get; set; }

    public DateTimeOffset? LeaseWarningSentAt { get; set; }

    public DateTimeOffset? ExpiredAt { get; set; }

    /// <summary>When it became Deleted: its spend stops there. Null while it exists, and for a create that failed.</summary>
    public DateTimeOffset? DeletedAt { get; set; }

    public Guid? RequestId { get; set; }

    /// <summary>The host it was placed on; null until placement.</summary>
    public Guid? HostId { get; set; }

    /// <summary>A database's server; null until placement (and always for VMs).</summary>
    public Guid? DatabaseServerId { get; set; }

    /// <summary>A database's name on its server (<see cref="Databases.DatabaseNames.ServerName"/>), set at placement.</summary>
    public string? DatabaseName { get; set; }

    /// <summary>The backup a new database is created from, if any.</summary>
    public Guid? RestoreFromBackupId { get; set; }

    /// <summary>Why placement chose that host (or why no host had room).</summary>
    public string PlacementReason { get; set; } = "";

    /// <summary>Bumped on every change; live clients use it to know what they missed.</summary>
    public long Version { get; set; }

    /// <summary>Whether the resource still counts against quota and keeps its name taken.</summary>
    public bool IsLive => State is not ResourceState.Deleted and not ResourceState.Failed;
}
