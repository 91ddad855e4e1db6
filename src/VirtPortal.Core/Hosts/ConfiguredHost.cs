namespace VirtPortal.Core.Hosts;

/// <summary>One entry of <c>Hosts:List</c>.</summary>
public sealed class ConfiguredHost
{
    public string Name { get; set; } = "";

    public HostDriver Driver { get; set; } = HostDriver.Libvirt;

    public string Uri { get; set; } = "";

    /// <summary>"auto" (the default: from the host's capabilities), "kvm" or "qemu".</summary>
    public string DomainType { get; set; } = HostAcceleration.Auto;

    public double CpuOvercommit { get; set; } = 4;

    public double RamOvercommit { get; set; } = 1;

    public HostInput ToInput() => new(Name, Driver, Uri, DomainType, CpuOvercommit, RamOvercommit);
}
