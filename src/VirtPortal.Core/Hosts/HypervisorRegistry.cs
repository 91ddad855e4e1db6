using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;

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

    /// <summary>libvirt domain type for the local host: "qemu" (TCG) where KVM cannot run guests.</summary>
    public string LocalDomainType { get; set; } = "kvm";
}

/// <summary>One adapter per host, made on first use and kept for the process (a connection per host).</summary>
public sealed class HypervisorRegistry(IEnumerable<IHypervisorFactory> factories, IOptions<HostOptions> options, TimeProvider time) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, IHypervisor> adapters = new();

    public bool Supports(HostDriver driver) => driver == HostDriver.Simulated || factories.Any(f => f.Driver == driver);

    public IHypervisor For(Host host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return adapters.GetOrAdd(host.Id, _ => host.Driver switch
        {
            HostDriver.Simulated => new SimulatedHypervisor(
                host.Name,
                options.Value.SimulatedStateDirectory.Length == 0 ? null : Path.Combine(options.Value.SimulatedStateDirectory, $"{host.Id}.json"),
                time,
                options.Value.SimulatedDelays ? SimulatedDelays.Demo : SimulatedDelays.None),
            _ => factories.FirstOrDefault(f => f.Driver == host.Driver)?.Create(host)
                 ?? throw new HypervisorRefusedException($"This portal has no adapter for {host.Driver} hosts."),
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var adapter in adapters.Values)
            await adapter.DisposeAsync();
        adapters.Clear();
    }
}
