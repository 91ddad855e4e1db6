using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt;

/// <summary>Makes a <see cref="LibvirtHypervisor"/> for each libvirt host the portal has registered.</summary>
public sealed class LibvirtHypervisorFactory(IOptions<LibvirtOptions> options, ILoggerFactory loggers, TimeProvider time) : IHypervisorFactory
{
    public HostDriver Driver => HostDriver.Libvirt;

    public IHypervisor Create(Host host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var settings = options.Value;
        return new LibvirtHypervisor(
            new LibvirtHostOptions
            {
                Uri = host.Uri, DomainType = host.DomainType, Network = settings.Network, StoragePool = settings.StoragePool,
                ImageDirectory = settings.ImageDirectory, ConsoleLogDirectory = settings.ConsoleLogDirectory,
            },
            loggers.CreateLogger<LibvirtHypervisor>(), time);
    }
}
