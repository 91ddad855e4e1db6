using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;

namespace VirtPortal.Core.Tests.Hosts;

/// <summary>
/// Stands in for the libvirt adapter: each URI is a simulated host that says what a libvirt host would
/// about KVM, or does not answer. Remembers the domain type each adapter was made for.
/// </summary>
public sealed class FakeLibvirtFactory(TimeProvider time) : IHypervisorFactory
{
    public const string NoVmxReason = "CPU has no vmx/svm flag, though libvirt offers the kvm domain type";
    public const string VmxReason = "vmx present and kvm offered";

    private readonly Dictionary<string, (bool Kvm, string Reason)> machines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> unreachable = new(StringComparer.Ordinal);
    private readonly List<(string Uri, SimulatedHypervisor Adapter)> adapters = [];
    private readonly Lock gate = new();

    public HostDriver Driver => HostDriver.Libvirt;

    /// <summary>The domain type of every adapter made, by URI, in order.</summary>
    public List<(string Uri, string DomainType)> Created { get; } = [];

    /// <summary>A machine like ours: libvirt offers kvm, the CPU has no vmx/svm flag.</summary>
    public FakeLibvirtFactory WithoutKvm(string uri) => With(uri, false, NoVmxReason);

    public FakeLibvirtFactory WithKvm(string uri) => With(uri, true, VmxReason);

    /// <summary>Facts calls to <paramref name="uri"/> fail with <paramref name="error"/> until <see cref="Answer"/>.</summary>
    public FakeLibvirtFactory Unreachable(string uri, string error)
    {
        unreachable[uri] = error;
        return this;
    }

    public void Answer(string uri)
    {
        unreachable.Remove(uri);
        foreach (var (_, adapter) in adapters.Where(a => a.Uri == uri))
            adapter.Faults.Clear();
    }

    public IHypervisor Create(Host host)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (gate)
            return CreateLocked(host);
    }

    private SimulatedHypervisor CreateLocked(Host host)
    {
        Created.Add((host.Uri, host.DomainType));
        var (kvm, reason) = machines.GetValueOrDefault(host.Uri, (true, VmxReason));
        var adapter = new SimulatedHypervisor(host.Name, null, time) { KvmAvailable = kvm, AccelerationReason = reason };
        if (unreachable.TryGetValue(host.Uri, out var error))
            adapter.Faults.Fail("HostFacts", () => new HypervisorUnreachableException(error));
        adapters.Add((host.Uri, adapter));
        return adapter;
    }

    private FakeLibvirtFactory With(string uri, bool kvm, string reason)
    {
        machines[uri] = (kvm, reason);
        return this;
    }
}
