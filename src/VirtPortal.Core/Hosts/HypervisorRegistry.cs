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

/// <summary>Checks <c>Hosts</c> at start-up, naming the key of each bad setting.</summary>
public sealed class HostOptionsValidator(IEnumerable<IHypervisorFactory> factories) : IValidateOptions<HostOptions>
{
    public ValidateOptionsResult Validate(string? name, HostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.FirstRun is not ("auto" or "simulated" or "libvirt"))
            failures.Add($"{HostOptions.Section}:{nameof(HostOptions.FirstRun)} is auto, simulated or libvirt, not '{options.FirstRun}'.");
        if (options.ConnectionTimeout < TimeSpan.FromSeconds(1) || options.ConnectionTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{HostOptions.Section}:{nameof(HostOptions.ConnectionTimeout)} is between 00:00:01 and 00:05:00.");
        if (HostRules.DomainTypeError(HostDriver.Libvirt, options.LocalDomainType, options.LocalLibvirtUri) is { } domainType)
            failures.Add($"{HostOptions.Section}:{nameof(HostOptions.LocalDomainType)}: {domainType}");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.List.Count; i++)
        {
            var key = $"{HostOptions.Section}:{nameof(HostOptions.List)}:{i}";
            var input = HostRules.Normalize(options.List[i].ToInput());
            foreach (var (field, messages) in HostRules.Errors(input, Supports))
                failures.Add($"{key}:{field}: {messages[0]}");
            if (input.Name.Length > 0 && !names.Add(input.Name))
                failures.Add($"{key}:{nameof(ConfiguredHost.Name)}: '{input.Name}' is listed twice.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private bool Supports(HostDriver driver) => driver == HostDriver.Simulated || factories.Any(f => f.Driver == driver);
}

/// <summary>One adapter per host, made on first use and kept for the process (a connection per host).</summary>
public sealed class HypervisorRegistry(IEnumerable<IHypervisorFactory> factories, IOptions<HostOptions> options, TimeProvider time) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, IHypervisor> adapters = new();

    public bool Supports(HostDriver driver) => driver == HostDriver.Simulated || factories.Any(f => f.Driver == driver);

    public IHypervisor For(Host host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return adapters.GetOrAdd(host.Id, _ => Create(host, persisted: true));
    }

    /// <summary>
    /// An adapter for a host that is not registered (a draft being tested): not kept, and a simulated
    /// one keeps no state file. The caller disposes it.
    /// </summary>
    public IHypervisor CreateDetached(Host draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return Create(draft, persisted: false);
    }

    /// <summary>Drops and disposes the host's adapter (its URI, driver or domain type changed, or it was removed); the next use makes a new one.</summary>
    public async ValueTask EvictAsync(Guid hostId)
    {
        if (adapters.TryRemove(hostId, out var adapter))
            await adapter.DisposeAsync();
    }

    /// <summary>How many adapters are kept (one per host used since start).</summary>
    internal int Count => adapters.Count;

    private IHypervisor Create(Host host, bool persisted) => host.Driver switch
    {
        HostDriver.Simulated => new SimulatedHypervisor(
            host.Name,
            !persisted || options.Value.SimulatedStateDirectory.Length == 0 ? null : Path.Combine(options.Value.SimulatedStateDirectory, $"{host.Id}.json"),
            time,
            options.Value.SimulatedDelays ? SimulatedDelays.Demo : SimulatedDelays.None),
        _ => factories.FirstOrDefault(f => f.Driver == host.Driver)?.Create(host)
             ?? throw new HypervisorRefusedException($"This portal has no adapter for {host.Driver} hosts."),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var adapter in adapters.Values)
            await adapter.DisposeAsync();
        adapters.Clear();
    }
}
