namespace VirtPortal.Core.Hosts;

public enum HostDriver
{
    /// <summary>The built-in simulated host (demo mode, UI tests).</summary>
    Simulated = 0,

    /// <summary>libvirt, local (qemu:///system) or remote (qemu+ssh://, qemu+tcp://).</summary>
    Libvirt = 1,
}

public enum HostState
{
    Online = 0,
    Unreachable = 1,

    /// <summary>Set by an admin: runs what it has, gets nothing new.</summary>
    Maintenance = 2,
}

/// <summary>A hypervisor host VMs are placed on.</summary>
public sealed class Host : Common.IHasSettingsVersion
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public HostDriver Driver { get; set; }

    /// <summary>libvirt connection URI; for simulated hosts, "simulated://NAME".</summary>
    public required string Uri { get; set; }

    /// <summary>libvirt domain type: "kvm" on real hosts, "qemu" (TCG) where KVM cannot run guests.</summary>
    public string DomainType { get; set; } = "kvm";

    /// <summary>
    /// The domain type follows the host's capabilities (kvm where KVM runs guests, else qemu) each time
    /// they are read, instead of being set by an admin or configuration.
    /// </summary>
    public bool DomainTypeFromCapabilities { get; set; }

    /// <summary>Whether the host runs KVM guests, as it last said; null until its capabilities were read.</summary>
    public bool? KvmAvailable { get; set; }

    /// <summary>Why <see cref="KvmAvailable"/> is what it is ("CPU has no vmx/svm flag", "vmx present and kvm offered").</summary>
    public string? AccelerationReason { get; set; }

    public HostState State { get; set; }

    public double CpuOvercommit { get; set; } = 4;

    public double RamOvercommit { get; set; } = 1;

    public int Cpus { get; set; }

    public long MemoryMiB { get; set; }

    public long StorageGiB { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSeenAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>The version of what admins set (name, connection, overcommit, maintenance); the reconciler's writes leave it.</summary>
    public long SettingsVersion { get; set; } = 1;
}
