namespace VirtPortal.Core.Reconciliation;

public enum DriftKind
{
    /// <summary>The domain's power state differs from the portal's (started or stopped outside).</summary>
    StateChanged = 0,

    /// <summary>The portal has the resource; its host no longer has the domain.</summary>
    Vanished = 1,

    /// <summary>vCPUs or memory differ from the portal's record.</summary>
    Resized = 2,

    /// <summary>The host has a domain the portal does not know.</summary>
    Unknown = 3,
}

/// <summary>
/// A difference between what a host reports and what the portal believes, for an admin to settle:
/// accept the hypervisor's state, restore the portal's, or adopt an unknown domain. The portal never
/// destroys anything on its own.
/// </summary>
public sealed class Drift
{
    public long Id { get; set; }

    /// <summary>The hypervisor host it was found on; null for a database's drift.</summary>
    public Guid? HostId { get; set; }

    /// <summary>The database server it was found on; null for a VM's drift.</summary>
    public Guid? DatabaseServerId { get; set; }

    public Guid? ResourceId { get; set; }

    /// <summary>The domain's UUID; for a database, its resource's id, or one derived from its name when the portal has no record of it.</summary>
    public Guid DomainId { get; set; }

    /// <summary>The libvirt domain's name, or the database's name on its server.</summary>
    public string DomainName { get; set; } = "";

    public DriftKind Kind { get; set; }

    public string PortalView { get; set; } = "";

    public string HypervisorView { get; set; } = "";

    public DateTimeOffset DetectedAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }

    public string? Resolution { get; set; }
}
