using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// KVM detection from captured capabilities: this machine's (kvm_pvm: libvirt offers kvm, the CPU has no
/// vmx/svm flag), an Intel and an AMD KVM host, and a host whose libvirt offers no kvm domain type.
/// </summary>
public sealed class HostCapabilitiesTests
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Capabilities", name));

    [Fact]
    public void This_machine_offers_the_kvm_domain_type_but_its_cpu_has_no_vmx_or_svm_so_kvm_cannot_run_guests()
    {
        var capabilities = HostCapabilities.Parse(Sample("kvm-pvm-amd.xml"), Sample("kvm-pvm-amd.expanded.xml"));

        Assert.Equal(("x86_64", "kvm64"), (capabilities.Arch, capabilities.CpuModel));
        Assert.Equal(["qemu", "kvm"], capabilities.DomainTypes);
        Assert.DoesNotContain("svm", capabilities.CpuFeatures);
        Assert.Contains("sse4a", capabilities.CpuFeatures);
        Assert.False(capabilities.KvmAvailable);
        Assert.Equal("CPU has no vmx/svm flag, though libvirt offers the kvm domain type", capabilities.Reason);
    }

    [Fact]
    public void An_intel_host_with_vmx_and_the_kvm_domain_type_runs_kvm_guests()
    {
        var capabilities = HostCapabilities.Parse(Sample("intel-vmx.xml"));

        Assert.True(capabilities.KvmAvailable);
        Assert.Equal("vmx present and kvm offered", capabilities.Reason);
    }

    [Fact]
    public void An_amd_host_whose_model_implies_svm_runs_kvm_guests_once_its_cpu_is_expanded()
    {
        var listed = HostCapabilities.Parse(Sample("amd-epyc.xml"));
        var expanded = HostCapabilities.Parse(Sample("amd-epyc.xml"), Sample("amd-epyc.expanded.xml"));

        // EPYC-Rome includes svm, so the capabilities alone do not name it.
        Assert.False(listed.KvmAvailable);
        Assert.True(expanded.KvmAvailable);
        Assert.Equal("svm present and kvm offered", expanded.Reason);
    }

    [Fact]
    public void A_host_with_vmx_whose_libvirt_offers_no_kvm_domain_type_cannot_run_kvm_guests()
    {
        var capabilities = HostCapabilities.Parse(Sample("intel-no-kvm-domain.xml"));

        Assert.Equal(["qemu"], capabilities.DomainTypes);
        Assert.False(capabilities.KvmAvailable);
        Assert.Equal("libvirt offers no kvm domain type for x86_64", capabilities.Reason);
    }

    [Fact]
    public void A_feature_an_expanded_cpu_disables_does_not_count()
    {
        const string Expanded = "<cpu mode='custom' match='exact'><model>kvm64</model><feature policy='disable' name='svm'/></cpu>";

        var capabilities = HostCapabilities.Parse(Sample("kvm-pvm-amd.xml"), Expanded);

        Assert.False(capabilities.KvmAvailable);
    }

    [Fact]
    public void Only_the_host_architectures_domain_types_count()
    {
        // An aarch64 host that could emulate x86_64 with kvm listed there must not pass for a KVM host.
        const string Xml = """
            <capabilities>
              <host><cpu><arch>aarch64</arch></cpu></host>
              <guest><os_type>hvm</os_type><arch name='aarch64'><domain type='qemu'/></arch></guest>
              <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='kvm'/></arch></guest>
            </capabilities>
            """;

        var capabilities = HostCapabilities.Parse(Xml);

        Assert.False(capabilities.KvmAvailable);
        Assert.Equal("libvirt offers no kvm domain type for aarch64", capabilities.Reason);
    }

    [Fact]
    public void Outside_x86_the_kvm_domain_type_alone_decides()
    {
        const string Xml = """
            <capabilities>
              <host><cpu><arch>aarch64</arch><model>Neoverse-N1</model></cpu></host>
              <guest><os_type>hvm</os_type><arch name='aarch64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
            </capabilities>
            """;

        var capabilities = HostCapabilities.Parse(Xml);

        Assert.True(capabilities.KvmAvailable);
        Assert.Equal("kvm offered for aarch64", capabilities.Reason);
    }

    [Theory]
    [InlineData("<capabilities><host>", "The host's capabilities could not be read: ")]
    [InlineData("<domain type='kvm'/>", "The host's capabilities could not be read: the XML's root is <domain>, not <capabilities>")]
    [InlineData("<capabilities><host><cpu/></host></capabilities>", "The host's capabilities could not be read: they name no host architecture")]
    public void Capabilities_that_cannot_be_read_are_refused_saying_so(string xml, string message)
    {
        var refused = Assert.Throws<HypervisorRefusedException>(() => HostCapabilities.Parse(xml));

        Assert.StartsWith(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_host_cpu_is_handed_to_libvirt_for_expansion_only_when_it_names_a_model()
    {
        Assert.StartsWith("<cpu><arch>x86_64</arch><model>kvm64</model>", HostCapabilities.HostCpuXml(Sample("kvm-pvm-amd.xml")), StringComparison.Ordinal);
        Assert.Null(HostCapabilities.HostCpuXml("<capabilities><host><cpu><arch>i686</arch></cpu></host></capabilities>"));
    }
}
