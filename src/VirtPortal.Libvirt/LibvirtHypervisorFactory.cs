using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt;

/// <summary>Makes a <see cref="LibvirtHypervisor"/> for each libvirt host the portal has registered.</summary>
public sealed class LibvirtHypervisorFactory(ILoggerFactory loggers, TimeProvider time) : IHypervisorFactory
{
    public HostDriver Driver => HostDriver.Libvirt;

    public IHypervisor Create(Host host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new LibvirtHypervisor(new LibvirtHostOptions { Uri = host.Uri, DomainType = host.DomainType }, loggers.CreateLogger<LibvirtHypervisor>(), time);
    }
}

public static class LibvirtServiceCollectionExtensions
{
    /// <summary>Lets the portal run VMs on libvirt hosts (local qemu:///system or remote URIs).</summary>
    public static IServiceCollection AddPortalLibvirt(this IServiceCollection services) =>
        services.AddSingleton<IHypervisorFactory, LibvirtHypervisorFactory>();
}
