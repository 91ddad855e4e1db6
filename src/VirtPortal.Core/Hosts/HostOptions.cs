namespace VirtPortal.Core.Hosts;

public sealed class HostOptions
{
    public const string Section = "Hosts";

    /// <summary>
    /// What the first run registers: "auto" (the local libvirt when its socket answers and the libvirt
    /// adapter is present, else the simulated host "demo"), "simulated" or "libvirt".
    /// </summary>
    public string FirstRun { get; set; } = "auto";

    /// <summary>Where the simulated host keeps its domains between restarts; the web host defaults it to DataDirectory/simulated.</summary>
    public string SimulatedStateDirectory { get; set; } = "";

    /// <summary>Make the simulated host take realistic time per call (off in tests).</summary>
    public bool SimulatedDelays { get; set; } = true;

    public string LocalLibvirtUri { get; set; } = "qemu:///system";

    public string LocalLibvirtSocket { get; set; } = "/var/run/libvirt/libvirt-sock";

    /// <summary>
    /// libvirt domain type for the local host: "auto" (the default) reads the host's capabilities and
    /// takes kvm where KVM runs guests, else qemu (TCG); "kvm" or "qemu" overrides that choice.
    /// </summary>
    public string LocalDomainType { get; set; } = HostAcceleration.Auto;

    /// <summary>
    /// Hosts to register at start-up instead of the first-run choice: each one missing (by name) is
    /// added; hosts already registered, and hosts not listed, are left as they are.
    /// </summary>
    public List<ConfiguredHost> List { get; set; } = [];

    /// <summary>How long a connection test (and a host's first contact) waits for the hypervisor's answer.</summary>
    public TimeSpan ConnectionTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
