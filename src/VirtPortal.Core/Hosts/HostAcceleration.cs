using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Hosts;

/// <summary>
/// Whether a libvirt host runs KVM guests, and the domain type that follows from it: one rule for the
/// first run, <c>Hosts:List</c>, the hosts page, connection tests and the reconciler.
/// </summary>
public static class HostAcceleration
{
    /// <summary>The domain type that asks the portal to choose from the host's capabilities.</summary>
    public const string Auto = "auto";

    public const string Kvm = "kvm";

    public const string Qemu = "qemu";

    /// <summary>libvirt's test driver runs only domains of its own type.</summary>
    public const string Test = "test";

    public const string KvmLabel = "KVM available";

    public const string EmulationLabel = "software emulation (slower)";

    public static bool IsTestUri(string? uri) => uri?.Trim().StartsWith("test:", StringComparison.OrdinalIgnoreCase) ?? false;

    /// <summary>The domain type a host whose type follows its capabilities runs; before they are known, qemu, which runs anywhere.</summary>
    public static string Choose(string uri, bool? kvmAvailable) => IsTestUri(uri) ? Test : kvmAvailable == true ? Kvm : Qemu;

    /// <summary>
    /// Records what <paramref name="facts"/> say about KVM on <paramref name="host"/>, and gives a host
    /// whose domain type follows its capabilities the type they call for. True when the domain type
    /// changed: the host's adapter was made for the old one and must be replaced.
    /// </summary>
    public static bool Apply(Host host, HostFacts facts)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(facts);
        host.KvmAvailable = facts.KvmAvailable;
        host.AccelerationReason = facts.AccelerationReason.Length > 500 ? facts.AccelerationReason[..500] : facts.AccelerationReason;
        if (host.Driver != HostDriver.Libvirt || !host.DomainTypeFromCapabilities)
            return false;
        var chosen = Choose(host.Uri, facts.KvmAvailable);
        if (chosen == host.DomainType)
            return false;
        host.DomainType = chosen;
        return true;
    }

    /// <summary>"KVM available" or "software emulation (slower)" for a libvirt host whose capabilities were read; null otherwise.</summary>
    public static string? Label(HostDriver driver, bool? kvmAvailable) =>
        driver != HostDriver.Libvirt || kvmAvailable is null ? null : kvmAvailable.Value ? KvmLabel : EmulationLabel;

    /// <summary>What an admin must hear when a host is set to run kvm domains where KVM cannot run guests; null when all is well.</summary>
    public static string? Warning(string hostName, HostDriver driver, string domainType, bool? kvmAvailable, string? reason) =>
        driver == HostDriver.Libvirt && domainType == Kvm && kvmAvailable == false
            ? $"KVM cannot run guests on {hostName} ({reason}): a kvm guest there starts but never boots. Choose qemu (software emulation) or auto."
            : null;
}
