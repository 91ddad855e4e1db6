using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Hosts;

/// <summary>Makes adapters for one driver; the libvirt project registers one for <see cref="HostDriver.Libvirt"/>.</summary>
public interface IHypervisorFactory
{
    HostDriver Driver { get; }

    IHypervisor Create(Host host);
}
