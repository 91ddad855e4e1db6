using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;

namespace VirtPortal.Core.Hosts;

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
