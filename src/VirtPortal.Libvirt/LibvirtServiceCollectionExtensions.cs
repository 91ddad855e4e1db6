using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Hosts;

namespace VirtPortal.Libvirt;

public static class LibvirtServiceCollectionExtensions
{
    /// <summary>Lets the portal run VMs on libvirt hosts (local qemu:///system or remote URIs), set up by the "Libvirt" section.</summary>
    public static IServiceCollection AddPortalLibvirt(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LibvirtOptions>().Bind(configuration.GetSection(LibvirtOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return services.AddSingleton<IHypervisorFactory, LibvirtHypervisorFactory>();
    }
}
