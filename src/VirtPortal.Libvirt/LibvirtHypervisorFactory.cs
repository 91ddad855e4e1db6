using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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

/// <summary>What every libvirt host of this portal gives its guests ("Libvirt" in configuration).</summary>
public sealed class LibvirtOptions
{
    public const string Section = "Libvirt";

    /// <summary>"user" (QEMU user-mode networking, the default: works on any host), a libvirt network's name, or "" for no NIC.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{0,64}$", ErrorMessage = "Libvirt:Network must be \"user\", a libvirt network's name, or empty.")]
    public string Network { get; set; } = DomainXml.UserNetwork;

    /// <summary>Storage pool for guest disks (qcow2 overlays of the template images in it).</summary>
    [Required(ErrorMessage = "Libvirt:StoragePool is required.")]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Libvirt:StoragePool must be a plain pool name.")]
    public string StoragePool { get; set; } = "default";

    /// <summary>Where kernel + initrd images (ImageRef.vmlinuz, ImageRef.initrd) live on the hosts.</summary>
    [Required(ErrorMessage = "Libvirt:ImageDirectory is required.")]
    public string ImageDirectory { get; set; } = "/var/lib/libvirt/images";

    /// <summary>Where hosts log each guest's serial console; empty turns the log off.</summary>
    public string? ConsoleLogDirectory { get; set; } = "/var/log/libvirt/qemu";
}

public static class LibvirtServiceCollectionExtensions
{
    /// <summary>Lets the portal run VMs on libvirt hosts (local qemu:///system or remote URIs), set up by the "Libvirt" section.</summary>
    public static IServiceCollection AddPortalLibvirt(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LibvirtOptions>().Bind(configuration.GetSection(LibvirtOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return services.AddSingleton<IHypervisorFactory, LibvirtHypervisorFactory>();
    }
}
