namespace VirtPortal.Core.Provisioning;

/// <summary>
/// What a host offers, for placement and the hosts page. <see cref="KvmAvailable"/> says whether the host
/// runs KVM guests (libvirt: the CPU has vmx or svm and libvirt offers the kvm domain type), and
/// <see cref="AccelerationReason"/> why, in words an admin can check on the host.
/// </summary>
public sealed record HostFacts(
    string Hostname, int Cpus, long MemoryMiB, long StorageCapacityGiB, long StorageFreeGiB, string Version, bool KvmAvailable, string AccelerationReason);

/// <summary>libvirt's domain states (virDomainState), as every adapter reports them.</summary>
public enum DomainState
{
    Unknown = 0,
    Running = 1,
    Paused = 2,
    Shutoff = 3,
    Crashed = 4,
    PMSuspended = 5,
}

/// <summary>A domain as the hypervisor sees it. <see cref="Id"/> is its UUID, which is the portal's resource id.</summary>
public sealed record DomainInfo(Guid Id, string Name, DomainState State, int VCpus, int MemoryMiB);

/// <summary>What to create. The adapter names the domain <see cref="Name"/> and gives it UUID <see cref="Id"/>.</summary>
public sealed record DomainSpec(Guid Id, string Name, int VCpus, int MemoryMiB, int DiskGiB, string ImageRef);

/// <summary>Where <see cref="DomainStats.MemoryUsedKiB"/> comes from: hosts give what their guests let them see.</summary>
public enum MemoryUsedSource
{
    /// <summary>The host gave no memory figure (libvirt's test driver; a domain that is shut off).</summary>
    None = 0,

    /// <summary>The guest's own figure through its balloon driver: available minus unused (what a guest's "free" calls used plus cache).</summary>
    Guest = 1,

    /// <summary>The resident set of the process that runs the guest (QEMU's RSS): an upper bound, it includes QEMU's own memory.</summary>
    ResidentSet = 2,

    /// <summary>Only the balloon size is known: memory the guest has, not memory it uses.</summary>
    Balloon = 3,
}

/// <summary>
/// One domain's raw counters from one bulk-stats call (<see cref="IHypervisor.GetAllStatsAsync"/>).
/// CPU time, disk and network are cumulative since the domain's process started, so a restart makes them
/// start again from zero; rates come from deltas (see <c>Monitoring.MetricRates</c>). Disk bytes are
/// summed over the domain's disks, network bytes over its interfaces. Memory: <see cref="MemoryCurrentKiB"/>
/// is what the domain has now (the balloon size), <see cref="MemoryMaxKiB"/> the most it may get,
/// <see cref="MemoryAvailableKiB"/> what the guest itself says it can use (null without a guest balloon
/// driver), and <see cref="MemoryUsedKiB"/> the best used figure the host gives, from <see cref="MemoryUsedSource"/>.
/// </summary>
public sealed record DomainStats(
    Guid Id, DateTimeOffset At, DomainState State, ulong CpuTimeNs, int VCpus,
    ulong MemoryCurrentKiB, ulong MemoryMaxKiB, ulong? MemoryAvailableKiB, ulong MemoryUsedKiB, MemoryUsedSource MemoryUsedSource,
    ulong DiskReadBytes, ulong DiskWriteBytes, ulong NetRxBytes, ulong NetTxBytes);

/// <summary>A lifecycle change reported by the hypervisor (whoever caused it).</summary>
public sealed record DomainEvent(Guid Id, string Name, DomainState State, string Detail);

/// <summary>Where a domain's graphical console listens.</summary>
public sealed record ConsoleEndpoint(string Host, int Port, int? WebSocketPort);

/// <summary>
/// A hypervisor host: libvirt (VirtPortal.Libvirt) or the built-in simulated host. Every call is
/// idempotent where the lifecycle allows it: creating an existing id returns it, starting a running
/// domain succeeds, deleting a missing one succeeds. Failures surface as <see cref="HypervisorException"/>s.
/// </summary>
public interface IHypervisor : IAsyncDisposable
{
    Task<HostFacts> GetHostFactsAsync(CancellationToken ct);

    Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken ct);

    Task<DomainInfo?> GetDomainAsync(Guid id, CancellationToken ct);

    /// <summary>
    /// Defines the domain with its storage, without starting it; returns the existing one for a known id
    /// (in whatever state it is). The provisioning service starts it as a step of its own, so a crash
    /// between the two leaves a defined domain that a retry starts (see <see cref="HypervisorExtensions.CreateAsync"/>).
    /// </summary>
    Task<DomainInfo> DefineAsync(DomainSpec spec, CancellationToken ct);

    Task StartAsync(Guid id, CancellationToken ct);

    /// <summary>ACPI power button: the guest shuts itself down (asynchronously).</summary>
    Task ShutdownAsync(Guid id, CancellationToken ct);

    /// <summary>libvirt's destroy: pulls the plug.</summary>
    Task ForceOffAsync(Guid id, CancellationToken ct);

    Task RebootAsync(Guid id, CancellationToken ct);

    Task SuspendAsync(Guid id, CancellationToken ct);

    Task ResumeAsync(Guid id, CancellationToken ct);

    /// <summary>Changes vCPUs and memory; the domain must be shut off.</summary>
    Task ResizeAsync(Guid id, int vcpus, int memoryMiB, CancellationToken ct);

    /// <summary>Removes the domain and its storage; succeeds when it does not exist.</summary>
    Task DeleteAsync(Guid id, CancellationToken ct);

    /// <summary>
    /// Every domain on the host with its counters, in one call (libvirt: virConnectGetAllDomainStats),
    /// so sampling a host costs one round trip whatever its number of domains.
    /// </summary>
    Task<IReadOnlyList<DomainStats>> GetAllStatsAsync(CancellationToken ct);

    Task<ConsoleEndpoint?> GetConsoleAsync(Guid id, CancellationToken ct);

    /// <summary>Lifecycle events; dispose the result to stop.</summary>
    IDisposable SubscribeEvents(Func<DomainEvent, Task> handler);
}

public static class HypervisorExtensions
{
    /// <summary>
    /// Defines and starts a domain, and returns it as the host reports it afterwards. A domain this call
    /// defined but could not start is removed again, so a failed create leaves nothing behind.
    /// </summary>
    public static async Task<DomainInfo> CreateAsync(this IHypervisor hypervisor, DomainSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(hypervisor);
        ArgumentNullException.ThrowIfNull(spec);
        var existed = await hypervisor.GetDomainAsync(spec.Id, ct) is not null;
        var domain = await hypervisor.DefineAsync(spec, ct);
        try
        {
            await hypervisor.EnsureRunningAsync(domain, ct);
        }
        catch (HypervisorException) when (!existed)
        {
            await hypervisor.DeleteAsync(spec.Id, CancellationToken.None);
            throw;
        }

        return await hypervisor.GetDomainAsync(spec.Id, ct) ?? throw new HypervisorNotFoundException($"domain {spec.Name} vanished after it was started");
    }

    /// <summary>Starts a shut-off (or crashed) domain and resumes a paused one; a running one is left alone.</summary>
    public static Task EnsureRunningAsync(this IHypervisor hypervisor, DomainInfo domain, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(hypervisor);
        ArgumentNullException.ThrowIfNull(domain);
        return domain.State switch
        {
            DomainState.Running => Task.CompletedTask,
            DomainState.Paused => hypervisor.ResumeAsync(domain.Id, ct),
            _ => hypervisor.StartAsync(domain.Id, ct),
        };
    }
}

/// <summary>A hypervisor refused or failed a call; <see cref="Exception.Message"/> is the hypervisor's own words.</summary>
public class HypervisorException : Exception
{
    public HypervisorException()
    {
    }

    public HypervisorException(string message)
        : base(message)
    {
    }

    public HypervisorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Worth retrying with backoff (connection lost, host busy); false for permanent refusals.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The domain (or host object) does not exist.</summary>
public sealed class HypervisorNotFoundException : HypervisorException
{
    public HypervisorNotFoundException()
    {
    }

    public HypervisorNotFoundException(string message)
        : base(message)
    {
    }

    public HypervisorNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The request conflicts with the domain's state or another domain (name or UUID taken).</summary>
public sealed class HypervisorConflictException : HypervisorException
{
    public HypervisorConflictException()
    {
    }

    public HypervisorConflictException(string message)
        : base(message)
    {
    }

    public HypervisorConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The host cannot be reached; retried with backoff.</summary>
public sealed class HypervisorUnreachableException : HypervisorException
{
    public HypervisorUnreachableException()
    {
    }

    public HypervisorUnreachableException(string message)
        : base(message)
    {
    }

    public HypervisorUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public override bool IsTransient => true;
}

/// <summary>The host refused the call (permissions, invalid configuration, no resources).</summary>
public sealed class HypervisorRefusedException : HypervisorException
{
    public HypervisorRefusedException()
    {
    }

    public HypervisorRefusedException(string message)
        : base(message)
    {
    }

    public HypervisorRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
