using System.Xml.Linq;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

public sealed class DomainXmlTests
{
    private static readonly DomainSpec Spec = new(Guid.NewGuid(), "vp-xml", 1, 128, 1, "vp-tiny");

    [Fact]
    public void The_serial_console_is_logged_to_a_file_named_after_the_domain()
    {
        var options = new LibvirtHostOptions { ConsoleLogDirectory = "/var/log/libvirt/qemu" };

        var log = SerialLog(DomainXml.Build(Spec, options, diskPath: null));

        Assert.NotNull(log);
        Assert.Equal("/var/log/libvirt/qemu/vp-xml-console.log", (string?)log.Attribute("file"));
        Assert.Equal("off", (string?)log.Attribute("append"));
        Assert.Equal("/var/log/libvirt/qemu/vp-xml-console.log", DomainXml.ConsoleLogPath(options, Spec.Name));
    }

    [Fact]
    public void Without_a_log_directory_the_serial_console_is_not_logged()
    {
        var options = new LibvirtHostOptions { ConsoleLogDirectory = null };

        Assert.Null(SerialLog(DomainXml.Build(Spec, options, diskPath: null)));
        Assert.Null(DomainXml.ConsoleLogPath(options, Spec.Name));
    }

    [Theory]
    [InlineData("user", "user", null)]
    [InlineData("default", "network", "default")]
    public void The_guest_nic_is_user_mode_or_on_the_named_libvirt_network(string network, string type, string? source)
    {
        var nic = Nic(DomainXml.Build(Spec, new LibvirtHostOptions { Network = network }, diskPath: null));

        Assert.NotNull(nic);
        Assert.Equal(type, (string?)nic.Attribute("type"));
        Assert.Equal(source, (string?)nic.Element("source")?.Attribute("network"));
        Assert.Equal("virtio", (string?)nic.Element("model")?.Attribute("type"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_a_network_the_guest_has_no_nic(string? network) =>
        Assert.Null(Nic(DomainXml.Build(Spec, new LibvirtHostOptions { Network = network }, diskPath: null)));

    private static XElement? Nic(string xml) => XDocument.Parse(xml).Root?.Element("devices")?.Element("interface");

    private static XElement? SerialLog(string xml) =>
        XDocument.Parse(xml).Root?.Element("devices")?.Element("serial")?.Element("log");
}
