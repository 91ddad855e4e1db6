using System.Xml;
using System.Xml.Linq;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt;

/// <summary>
/// Whether a host can run KVM guests, from libvirt's capabilities XML (virConnectGetCapabilities).
/// KVM runs a guest only where the CPU offers hardware virtualization (<c>vmx</c> on Intel, <c>svm</c> on
/// AMD) and libvirt offers the <c>kvm</c> domain type for the host's architecture. Neither alone is
/// enough: with <c>kvm_pvm</c> or some nested setups <c>/dev/kvm</c> exists, libvirt offers <c>kvm</c>,
/// and a kvm guest still never boots, because the CPU has no vmx/svm flag.
/// </summary>
/// <remarks>
/// The capabilities list only the host CPU's features beyond its named model, and a model can imply
/// <c>svm</c> (libvirt's EPYC models do). So the features of the host CPU expanded by libvirt
/// (virConnectBaselineCPU with VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES) count as well. The flags only
/// mean something on x86; elsewhere the kvm domain type alone decides.
/// </remarks>
internal sealed record HostCapabilities(string Arch, string? CpuModel, IReadOnlySet<string> CpuFeatures, IReadOnlyList<string> DomainTypes)
{
    private static readonly string[] HardwareVirtualizationFlags = ["vmx", "svm"];

    /// <summary>Reads <paramref name="capabilitiesXml"/>, adding the features of <paramref name="expandedCpuXml"/> (a baseline with every feature listed) when there is one.</summary>
    /// <exception cref="HypervisorRefusedException">The XML is not libvirt's capabilities, or names no host architecture.</exception>
    public static HostCapabilities Parse(string capabilitiesXml, string? expandedCpuXml = null)
    {
        var root = Load(capabilitiesXml, "capabilities");
        var cpu = root.Element("host")?.Element("cpu");
        var arch = cpu?.Element("arch")?.Value.Trim();
        if (string.IsNullOrEmpty(arch))
            throw Unreadable("they name no host architecture (<host><cpu><arch>)");

        var features = new HashSet<string>(Features(cpu!), StringComparer.Ordinal);
        if (expandedCpuXml is not null)
            features.UnionWith(Features(Load(expandedCpuXml, "cpu")));

        var domainTypes = root.Elements("guest")
            .Where(g => g.Element("os_type")?.Value.Trim() == "hvm")
            .SelectMany(g => g.Elements("arch"))
            .Where(a => (string?)a.Attribute("name") == arch)
            .SelectMany(a => a.Elements("domain"))
            .Select(d => (string?)d.Attribute("type"))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return new HostCapabilities(arch, cpu!.Element("model")?.Value.Trim(), features, domainTypes);
    }

    /// <summary>The host's &lt;cpu&gt; element, for libvirt to expand; null when it names no model (libvirt's test driver), since there is nothing to expand.</summary>
    public static string? HostCpuXml(string capabilitiesXml)
    {
        var cpu = Load(capabilitiesXml, "capabilities").Element("host")?.Element("cpu");
        return cpu?.Element("model") is null ? null : cpu.ToString(SaveOptions.DisableFormatting);
    }

    public bool IsX86 => Arch is "x86_64" or "i686";

    /// <summary>The hardware virtualization flag the CPU has (vmx or svm), or null.</summary>
    public string? VirtualizationFlag => HardwareVirtualizationFlags.FirstOrDefault(CpuFeatures.Contains);

    public bool KvmOffered => DomainTypes.Contains("kvm");

    public bool KvmAvailable => KvmOffered && (!IsX86 || VirtualizationFlag is not null);

    /// <summary>Why <see cref="KvmAvailable"/> is what it is, in words an admin can check on the host.</summary>
    public string Reason => (IsX86, VirtualizationFlag, KvmOffered) switch
    {
        (true, { } flag, true) => $"{flag} present and kvm offered",
        (true, not null, false) => $"libvirt offers no kvm domain type for {Arch}",
        (true, null, true) => "CPU has no vmx/svm flag, though libvirt offers the kvm domain type",
        (true, null, false) => $"CPU has no vmx/svm flag and libvirt offers no kvm domain type for {Arch}",
        (false, _, true) => $"kvm offered for {Arch}",
        (false, _, false) => $"libvirt offers no kvm domain type for {Arch}",
    };

    // Capabilities list features without a policy; an expanded CPU marks each "require" (or "disable").
    private static IEnumerable<string> Features(XElement cpu) => cpu.Elements("feature")
        .Where(f => (string?)f.Attribute("policy") is null or "require" or "force")
        .Select(f => (string?)f.Attribute("name"))
        .OfType<string>();

    private static XElement Load(string xml, string rootName)
    {
        XElement root;
        try
        {
            root = XElement.Parse(xml);
        }
        catch (XmlException e)
        {
            throw Unreadable(e.Message, e);
        }

        return root.Name.LocalName == rootName ? root : throw Unreadable($"the XML's root is <{root.Name.LocalName}>, not <{rootName}>");
    }

    private static HypervisorRefusedException Unreadable(string why, Exception? inner = null)
    {
        var message = $"The host's capabilities could not be read: {why}";
        return inner is null ? new HypervisorRefusedException(message) : new HypervisorRefusedException(message, inner);
    }
}
