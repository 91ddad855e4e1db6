namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// KVM detection against the real daemon, checked against what the kernel says: /proc/cpuinfo's vmx/svm
/// flags, and the kvm domain type in `virsh capabilities`. On these machines (kvm_pvm) libvirt offers kvm
/// and the CPU has neither flag; on a real KVM host both hold.
/// </summary>
public sealed class SystemCapabilitiesTests(SystemLibvirtFixture fixture) : IClassFixture<SystemLibvirtFixture>, IAsyncLifetime
{
    private readonly LibvirtHypervisor _hypervisor = new(new LibvirtHostOptions { Uri = SystemLibvirtFixture.Uri, DomainType = "qemu" });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Assert.NotNull(fixture);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _hypervisor.DisposeAsync();

    [Fact]
    public async Task The_hosts_kvm_verdict_matches_the_cpu_flags_the_kernel_reports_and_the_domain_types_libvirt_offers()
    {
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var hardwareVirtualization = flags.Contains("vmx") || flags.Contains("svm");
        var (exitCode, capabilities) = await SystemLibvirtFixture.VirshAsync("capabilities");
        Assert.Equal(0, exitCode);
        var kvmOffered = capabilities.Contains("<domain type='kvm'", StringComparison.Ordinal);

        var facts = await _hypervisor.GetHostFactsAsync(Ct);

        Assert.Equal(hardwareVirtualization && kvmOffered, facts.KvmAvailable);
        if (!hardwareVirtualization)
            Assert.StartsWith("CPU has no vmx/svm flag", facts.AccelerationReason, StringComparison.Ordinal);
        else if (!kvmOffered)
            Assert.Equal("libvirt offers no kvm domain type for x86_64", facts.AccelerationReason);
        else
            Assert.EndsWith(" present and kvm offered", facts.AccelerationReason, StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"KVM available: {facts.KvmAvailable} ({facts.AccelerationReason})");
    }
}
