using VirtPortal.Core.Hosts;

namespace VirtPortal.Core.Tests.Hosts;

public sealed class HostRulesTests
{
    [Theory]
    [InlineData("qemu:///system")]
    [InlineData("qemu:///session")]
    [InlineData("qemu+ssh://user@kvm-1.example.org/system")]
    [InlineData("qemu+ssh://root@10.0.0.5:2222/system?keyfile=/etc/virtportal/id_ed25519")]
    [InlineData("qemu+tcp://kvm-2/system")]
    [InlineData("qemu+tls://kvm-3.example.org/system")]
    [InlineData("test:///default")]
    public void Libvirt_uris_the_portal_connects_to_are_accepted(string uri)
    {
        Assert.Null(HostRules.UriError(HostDriver.Libvirt, uri));
    }

    [Theory]
    [InlineData("", "Enter the host's URI")]
    [InlineData("kvm-1", "Enter a libvirt URI such as")]
    [InlineData("qemu:/system", "Enter a libvirt URI such as")]
    [InlineData("xen:///system", "Enter a libvirt URI such as")]
    [InlineData("http://kvm-1/system", "Enter a libvirt URI such as")]
    [InlineData("qemu+ssh:///system", "qemu+ssh:// reaches another machine")]
    [InlineData("qemu+tcp://kvm-2/", "ends in /system")]
    [InlineData("qemu:///system now", "cannot contain spaces")]
    [InlineData("test://somewhere/default", "test:///default")]
    [InlineData("simulated://demo", "Enter a libvirt URI such as")]
    public void Libvirt_uris_that_do_not_fit_are_refused_saying_what_fits(string uri, string message)
    {
        Assert.Contains(message, HostRules.UriError(HostDriver.Libvirt, uri), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulated://demo", true)]
    [InlineData("simulated://rack-2", true)]
    [InlineData("simulated://", false)]
    [InlineData("simulated://demo/extra", false)]
    [InlineData("qemu:///system", false)]
    public void Simulated_hosts_take_simulated_uris(string uri, bool accepted)
    {
        Assert.Equal(accepted, HostRules.UriError(HostDriver.Simulated, uri) is null);
    }

    [Theory]
    [InlineData("auto", "qemu:///system", true)]
    [InlineData("kvm", "qemu:///system", true)]
    [InlineData("QEMU", "qemu:///system", true)]
    [InlineData("xen", "qemu:///system", false)]
    [InlineData("", "qemu:///system", false)]
    [InlineData("test", "test:///default", true)]
    [InlineData("test", "qemu:///system", false)]
    public void Libvirt_hosts_run_kvm_or_qemu_domains_or_leave_the_choice_to_their_capabilities(string domainType, string uri, bool accepted)
    {
        Assert.Equal(accepted, HostRules.DomainTypeError(HostDriver.Libvirt, domainType, uri) is null);
    }

    [Fact]
    public void Normalizing_trims_and_gives_simulated_hosts_their_own_domain_type()
    {
        var input = HostRules.Normalize(new HostInput(" demo ", HostDriver.Simulated, " simulated://demo ", "kvm", 4, 1));

        Assert.Equal(("demo", "simulated://demo", "simulated"), (input.Name, input.Uri, input.DomainType));
    }

    [Fact]
    public void Every_problem_is_reported_by_its_field()
    {
        var errors = HostRules.Errors(new HostInput("", HostDriver.Libvirt, "nope", "xen", 0, 5), _ => false);

        Assert.Equal(
            ["CpuOvercommit", "DomainType", "Driver", "Name", "RamOvercommit", "Uri"],
            errors.Keys.Order(StringComparer.Ordinal));
    }
}
