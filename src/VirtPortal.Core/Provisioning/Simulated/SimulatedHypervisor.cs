using System.Collections.Concurrent;
using System.Text.Json;

namespace VirtPortal.Core.Provisioning.Simulated;

/// <summary>Delays of the simulated host, to make a demo feel like real hardware (zero in tests).</summary>
public sealed record SimulatedDelays(TimeSpan Create, TimeSpan Boot, TimeSpan Shutdown, TimeSpan Other)
{
    public static SimulatedDelays Demo { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300));

    public static SimulatedDelays None { get; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>
/// The built-in host for demos and UI tests: domains live in memory, persisted to a JSON file so a demo
/// survives a restart; calls take configurable time; figures move plausibly; lifecycle events fire; and
/// tests can make a given call fail or hang (<see cref="Faults"/>). Never a stand-in for testing libvirt.
/// </summary>
public sealed class SimulatedHypervisor : IHypervisor
{
    private readonly ConcurrentDictionary<Guid, SimDomain> domains = new();
    private readonly ConcurrentDictionary<Guid, Func<DomainEvent, Task>> handlers = new();
    private readonly SemaphoreSlim saveLock = new(1, 1);
    private readonly string? stateFile;
    private readonly TimeProvider time;
    private readonly SimulatedDelays delays;
    private readonly Random random = new();

    public SimulatedHypervisor(string hostName, string? stateFile, TimeProvider time, SimulatedDelays? delays = null)
    {
        HostName = hostName;
        this.stateFile = stateFile;
        this.time = time;
        this.delays = delays ?? SimulatedDelays.None;
        if (stateFile is not null)
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(stateFile))!);
        if (stateFile is not null && File.Exists(stateFile))
        {
            foreach (var domain in JsonSerializer.Deserialize<List<SimDomain>>(File.ReadAllText(stateFile)) ?? [])
                domains[domain.Id] = domain;
        }
    }

    public string HostName { get; }

    /// <summary>Injected failures and hangs, by operation name ("Define", "Start", "Delete", …).</summary>
    public SimulatedFaults Faults { get; } = new();

    /// <summary>
    /// What the host reports about KVM. A simulated host runs no guests, so it has none; tests of the
    /// portal's KVM detection set these to stand in for a libvirt host.
    /// </summary>
    public bool KvmAvailable { get; set; }

    public string AccelerationReason { get; set; } = "a simulated host runs no guests and uses no domain type";

    /// <summary>Simulated capacity: 32 CPUs, 128 GiB, 2 TiB.</summary>
    public Task<HostFacts> GetHostFactsAsync(CancellationToken ct) =>
        Step("HostFacts", TimeSpan.Zero, () => new HostFacts(
            HostName, 32, 131072, 2048, 2048 - domains.Values.Sum(d => (long)d.DiskGiB), "simulated 1.0", KvmAvailable, AccelerationReason), ct);

    public Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken ct) =>
        Step("List", TimeSpan.Zero, () => (IReadOnlyList<DomainInfo>)[.. domains.Values.OrderBy(d => d.Name).Select(Info)], ct);

    public Task<DomainInfo?> GetDomainAsync(Guid id, CancellationToken ct) =>
        Step("Get", TimeSpan.Zero, () => domains.TryGetValue(id, out var d) ? Info(d) : null, ct);

    public async Task<DomainInfo> DefineAsync(DomainSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var defined = await Step("Define", delays.Create, () =>
        {
            if (domains.TryGetValue(spec.Id, out var existing))
                return existing;
            if (domains.Values.Any(d => d.Name == spec.Name))
                throw new HypervisorConflictException($"domain '{spec.Name}' already exists with another uuid");
            var domain = new SimDomain
            {
                Id = spec.Id, Name = spec.Name, VCpus = spec.VCpus, MemoryMiB = spec.MemoryMiB, DiskGiB = spec.DiskGiB,
                ImageRef = spec.ImageRef, State = DomainState.Shutoff,
            };
            domains[spec.Id] = domain;
            return domain;
        }, ct);
        await SaveAsync(ct);
        return Info(defined);
    }

    public Task StartAsync(Guid id, CancellationToken ct) => Transition("Start", id, delays.Boot, d => d.State switch
    {
        DomainState.Running => null,
        DomainState.Paused => throw new HypervisorConflictException("Requested operation is not valid: domain is paused"),
        _ => (DomainState.Running, "Booted"),
    }, ct);

    public Task ShutdownAsync(Guid id, CancellationToken ct) => Transition("Shutdown", id, delays.Shutdown, d => d.State switch
    {
        DomainState.Shutoff => null,
        DomainState.Running => (DomainState.Shutoff, "Shutdown"),
        _ => throw new HypervisorConflictException("Requested operation is not valid: domain is not running"),
    }, ct);

    public Task ForceOffAsync(Guid id, CancellationToken ct) => Transition("ForceOff", id, delays.Other, d => d.State switch
    {
        DomainState.Shutoff => null,
        _ => (DomainState.Shutoff, "Destroyed"),
    }, ct);

    public Task RebootAsync(Guid id, CancellationToken ct) => Transition("Reboot", id, delays.Boot, d => d.State switch
    {
        DomainState.Running => (DomainState.Running, "Rebooted"),
        _ => throw new HypervisorConflictException("Requested operation is not valid: domain is not running"),
    }, ct);

    public Task SuspendAsync(Guid id, CancellationToken ct) => Transition("Suspend", id, delays.Other, d => d.State switch
    {
        DomainState.Paused => null,
        DomainState.Running => (DomainState.Paused, "Suspended"),
        _ => throw new HypervisorConflictException("Requested operation is not valid: domain is not running"),
    }, ct);

    public Task ResumeAsync(Guid id, CancellationToken ct) => Transition("Resume", id, delays.Other, d => d.State switch
    {
        DomainState.Running => null,
        DomainState.Paused => (DomainState.Running, "Resumed"),
        _ => throw new HypervisorConflictException("Requested operation is not valid: domain is not paused"),
    }, ct);

    public async Task ResizeAsync(Guid id, int vcpus, int memoryMiB, CancellationToken ct)
    {
        await Step("Resize", delays.Other, () =>
        {
            var domain = Find(id);
            if (domain.State != DomainState.Shutoff)
                throw new HypervisorConflictException("Requested operation is not valid: domain must be shut off to change its size");
            (domain.VCpus, domain.MemoryMiB) = (vcpus, memoryMiB);
            return true;
        }, ct);
        await SaveAsync(ct);
    }

    public async Task DeleteAsync(Guid id, CancellationToken ct)
    {
        var removed = await Step("Delete", delays.Other, () => domains.TryRemove(id, out var d) ? d : null, ct);
        await SaveAsync(ct);
        if (removed is not null)
            await RaiseAsync(new DomainEvent(removed.Id, removed.Name, DomainState.Shutoff, "Undefined"));
    }

    /// <summary>
    /// Counters as QEMU keeps them: while a domain runs, CPU time grows with a load that wanders (a
    /// random walk per domain), and disk and network grow with it; paused or shut off, nothing grows;
    /// a shut-off domain's counters start again from zero at its next start. Memory used is the guest's
    /// own figure (a simulated balloon driver).
    /// </summary>
    public Task<IReadOnlyList<DomainStats>> GetAllStatsAsync(CancellationToken ct) => Step("Stats", TimeSpan.Zero, () =>
    {
        var now = time.GetUtcNow();
        return (IReadOnlyList<DomainStats>)[.. domains.Values.OrderBy(d => d.Name).Select(d =>
        {
            lock (d)
            {
                Advance(d, now);
                var running = d.State is DomainState.Running or DomainState.Paused;
                var maxKiB = (ulong)d.MemoryMiB * 1024;
                var usedKiB = running ? (ulong)(maxKiB * Math.Clamp(0.25 + (0.5 * d.Load), 0, 1)) : 0;
                return new DomainStats(
                    d.Id, now, d.State, d.CpuTimeNs, d.VCpus,
                    running ? maxKiB : 0, maxKiB, running ? maxKiB : null, usedKiB, running ? MemoryUsedSource.Guest : MemoryUsedSource.None,
                    d.DiskReadBytes, d.DiskWriteBytes, d.NetRxBytes, d.NetTxBytes);
            }
        })];
    }, ct);

    /// <summary>Moves a domain's counters to <paramref name="now"/>: growth at its load while it runs, then a step of the load's walk.</summary>
    private void Advance(SimDomain d, DateTimeOffset now)
    {
        var since = d.CountedUntil ?? now;
        d.CountedUntil = now;
        var seconds = Math.Max(0, (now - since).TotalSeconds);
        if (d.State != DomainState.Running || seconds == 0)
            return;
        d.CpuTimeNs += (ulong)(seconds * d.Load * d.VCpus * 1e9);
        d.DiskReadBytes += (ulong)(seconds * (20_000 + (400_000 * d.Load)));
        d.DiskWriteBytes += (ulong)(seconds * (10_000 + (150_000 * d.Load)));
        d.NetRxBytes += (ulong)(seconds * (2_000 + (60_000 * d.Load)));
        d.NetTxBytes += (ulong)(seconds * (1_000 + (25_000 * d.Load)));
        double step;
        lock (random)
            step = (random.NextDouble() - 0.5) * 0.2 * Math.Min(seconds / 5, 3);
        d.Load = Math.Clamp(d.Load + step, 0.02, 0.95);
    }

    public Task<ConsoleEndpoint?> GetConsoleAsync(Guid id, CancellationToken ct) =>
        Step<ConsoleEndpoint?>("Console", TimeSpan.Zero, () => domains.ContainsKey(id) ? null : throw new HypervisorNotFoundException($"Domain not found: no domain with matching uuid '{id}'"), ct);

    public IDisposable SubscribeEvents(Func<DomainEvent, Task> handler)
    {
        var key = Guid.NewGuid();
        handlers[key] = handler;
        return new Unsubscriber(() => handlers.TryRemove(key, out _));
    }

    /// <summary>Changes a domain behind the portal's back, as someone with virsh would (drift for the reconciler).</summary>
    public async Task SetStateOutsideAsync(Guid id, DomainState state)
    {
        var domain = Find(id);
        Apply(domain, state);
        await SaveAsync(CancellationToken.None);
        await RaiseAsync(new DomainEvent(domain.Id, domain.Name, state, "changed outside the portal"));
    }

    public ValueTask DisposeAsync()
    {
        saveLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task Transition(string operation, Guid id, TimeSpan delay, Func<SimDomain, (DomainState State, string Detail)?> next, CancellationToken ct)
    {
        var change = await Step(operation, delay, () =>
        {
            var domain = Find(id);
            var target = next(domain);
            if (target is { } t)
                Apply(domain, t.State);
            return target is null ? null : new DomainEvent(domain.Id, domain.Name, target.Value.State, target.Value.Detail);
        }, ct);
        if (change is not null)
        {
            await SaveAsync(ct);
            await RaiseAsync(change);
        }
    }

    private void Apply(SimDomain domain, DomainState state)
    {
        lock (domain)
        {
            // What ran until now counts; a domain that stops loses its process, and its counters with it.
            Advance(domain, time.GetUtcNow());
            if (state is DomainState.Shutoff or DomainState.Crashed)
                (domain.CpuTimeNs, domain.DiskReadBytes, domain.DiskWriteBytes, domain.NetRxBytes, domain.NetTxBytes) = (0, 0, 0, 0, 0);
            domain.StartedAt = state == DomainState.Running ? time.GetUtcNow() : null;
            domain.State = state;
        }
    }

    private SimDomain Find(Guid id) =>
        domains.TryGetValue(id, out var domain) ? domain : throw new HypervisorNotFoundException($"Domain not found: no domain with matching uuid '{id}'");

    private async Task<T> Step<T>(string operation, TimeSpan delay, Func<T> action, CancellationToken ct)
    {
        await Faults.ApplyAsync(operation, ct);
        if (delay > TimeSpan.Zero)
            await Task.Delay(delay, time, ct);
        return action();
    }

    private async Task RaiseAsync(DomainEvent change)
    {
        foreach (var handler in handlers.Values)
            await handler(change);
    }

    private async Task SaveAsync(CancellationToken ct)
    {
        if (stateFile is null)
            return;
        await saveLock.WaitAsync(ct);
        try
        {
            var temp = stateFile + ".tmp";
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(domains.Values.ToList()), ct);
            File.Move(temp, stateFile, overwrite: true);
        }
        finally
        {
            saveLock.Release();
        }
    }

    private static DomainInfo Info(SimDomain d) => new(d.Id, d.Name, d.State, d.VCpus, d.MemoryMiB);

    private sealed class SimDomain
    {
        public Guid Id { get; set; }

        public string Name { get; set; } = "";

        public int VCpus { get; set; }

        public int MemoryMiB { get; set; }

        public int DiskGiB { get; set; }

        public string ImageRef { get; set; } = "";

        public DomainState State { get; set; }

        public DateTimeOffset? StartedAt { get; set; }

        public DateTimeOffset? CountedUntil { get; set; }

        /// <summary>The share of its vCPUs the domain keeps busy, wandering between samples.</summary>
        public double Load { get; set; } = 0.15;

        public ulong CpuTimeNs { get; set; }

        public ulong DiskReadBytes { get; set; }

        public ulong DiskWriteBytes { get; set; }

        public ulong NetRxBytes { get; set; }

        public ulong NetTxBytes { get; set; }
    }

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}

/// <summary>Failures and hangs injected into the simulated host, one operation name at a time.</summary>
public sealed class SimulatedFaults
{
    private readonly ConcurrentDictionary<string, Func<Exception>> failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> hangs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> remaining = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> throw what <paramref name="error"/> makes.</summary>
    public void Fail(string operation, Func<Exception> error, int times = int.MaxValue)
    {
        failures[operation] = error;
        remaining[operation] = times;
    }

    /// <summary>Calls of <paramref name="operation"/> block until <see cref="Release"/> (or cancellation).</summary>
    public void Hang(string operation) => hangs[operation] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(string operation)
    {
        if (hangs.TryRemove(operation, out var hang))
            hang.TrySetResult();
    }

    public void Clear()
    {
        failures.Clear();
        remaining.Clear();
        foreach (var name in hangs.Keys)
            Release(name);
    }

    internal async Task ApplyAsync(string operation, CancellationToken ct)
    {
        if (hangs.TryGetValue(operation, out var hang))
            await hang.Task.WaitAsync(ct);
        if (failures.TryGetValue(operation, out var error) && remaining.AddOrUpdate(operation, 0, (_, n) => n - 1) >= 0)
            throw error();
    }
}
