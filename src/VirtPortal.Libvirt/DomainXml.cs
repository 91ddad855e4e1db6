using System.Globalization;
using System.Xml.Linq;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt;

/// <summary>Builds libvirt domain XML from a <see cref="DomainSpec"/> and reads what the portal needs back.</summary>
internal static class DomainXml
{
    /// <summary>The <see cref="LibvirtHostOptions.Network"/> value for QEMU's user-mode networking.</summary>
    public const string UserNetwork = "user";

    /// <summary>
    /// <see cref="DomainSpec.ImageRef"/> names an image. With <paramref name="diskPath"/> (a qcow2
    /// overlay of <c>{ImageRef}.qcow2</c> in the storage pool, see <see cref="PoolStorage"/>) the guest
    /// boots from that disk. Without it the guest has no disk and boots the kernel and initrd
    /// <c>{ImageDirectory}/{ImageRef}.vmlinuz</c> and <c>.initrd</c>.
    /// </summary>
    public static string Build(DomainSpec spec, LibvirtHostOptions options, string? diskPath)
    {
        ValidateImageRef(spec.ImageRef);

        var imageBase = Path.Combine(options.ImageDirectory, spec.ImageRef);
        var os = new XElement("os", new XElement("type", new XAttribute("arch", "x86_64"), "hvm"));
        if (diskPath is null)
        {
            os.Add(
                new XElement("kernel", imageBase + ".vmlinuz"),
                new XElement("initrd", imageBase + ".initrd"),
                new XElement("cmdline", "console=ttyS0"));
        }
        else
        {
            os.Add(new XElement("boot", new XAttribute("dev", "hd")));
        }

        var serial = new XElement("serial", new XAttribute("type", "pty"), new XElement("target", new XAttribute("port", 0)));
        if (ConsoleLogPath(options, spec.Name) is { } logPath)
        {
            // Each start begins a fresh log: what matters is the current boot and the ones after it.
            serial.Add(new XElement("log", new XAttribute("file", logPath), new XAttribute("append", "off")));
        }

        var devices = new XElement("devices",
            serial,
            new XElement("console", new XAttribute("type", "pty"),
                new XElement("target", new XAttribute("type", "serial"), new XAttribute("port", 0))),
            new XElement("graphics",
                new XAttribute("type", "vnc"), new XAttribute("port", -1), new XAttribute("autoport", "yes"),
                new XAttribute("websocket", -1), new XAttribute("listen", "127.0.0.1")),
            new XElement("memballoon", new XAttribute("model", "virtio"),
                new XElement("stats", new XAttribute("period", 2))));
        if (diskPath is not null)
        {
            devices.AddFirst(new XElement("disk", new XAttribute("type", "file"), new XAttribute("device", "disk"),
                new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", "qcow2")),
                new XElement("source", new XAttribute("file", diskPath)),
                new XElement("target", new XAttribute("dev", "vda"), new XAttribute("bus", "virtio"))));
        }

        if (options.Network == UserNetwork)
        {
            devices.AddFirst(new XElement("interface", new XAttribute("type", "user"),
                new XElement("model", new XAttribute("type", "virtio"))));
        }
        else if (!string.IsNullOrEmpty(options.Network))
        {
            devices.AddFirst(new XElement("interface", new XAttribute("type", "network"),
                new XElement("source", new XAttribute("network", options.Network)),
                new XElement("model", new XAttribute("type", "virtio"))));
        }

        var domain = new XElement("domain", new XAttribute("type", options.DomainType),
            new XElement("name", spec.Name),
            new XElement("uuid", spec.Id.ToString("D")),
            new XElement("memory", new XAttribute("unit", "MiB"), spec.MemoryMiB),
            new XElement("currentMemory", new XAttribute("unit", "MiB"), spec.MemoryMiB),
            new XElement("vcpu", spec.VCpus),
            os,
            new XElement("on_poweroff", "destroy"),
            new XElement("on_reboot", "restart"),
            new XElement("on_crash", "destroy"),
            devices);
        if (string.Equals(options.DomainType, "qemu", StringComparison.Ordinal))
        {
            // TCG's default translation cache makes QEMU's RSS balloon; 32 MiB is plenty for small guests.
            domain.Add(new XElement("features",
                new XElement("acpi"),
                new XElement("tcg", new XElement("tb-cache", new XAttribute("unit", "MiB"), 32))));
        }
        else
        {
            domain.Add(new XElement("features", new XElement("acpi")));
        }

        return domain.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>The file the guest's serial console is logged to on the host, or null when the host does not log it.</summary>
    public static string? ConsoleLogPath(LibvirtHostOptions options, string domainName) =>
        string.IsNullOrEmpty(options.ConsoleLogDirectory) ? null : Path.Combine(options.ConsoleLogDirectory, domainName + "-console.log");

    /// <summary>An image name becomes part of host paths and volume names, so it must be a plain name.</summary>
    public static void ValidateImageRef(string imageRef)
    {
        if (imageRef.Length == 0 || imageRef.Contains('/', StringComparison.Ordinal) || imageRef.StartsWith('.'))
            throw new HypervisorRefusedException($"Image '{imageRef}' is not a plain image name.");
    }

    /// <summary>The VNC endpoint from a running domain's live XML (ports are chosen at start).</summary>
    public static ConsoleEndpoint? ReadConsole(string xml)
    {
        var graphics = XDocument.Parse(xml).Root?.Element("devices")?.Elements("graphics")
            .FirstOrDefault(g => (string?)g.Attribute("type") == "vnc");
        if (graphics is null || !int.TryParse((string?)graphics.Attribute("port"), CultureInfo.InvariantCulture, out var port) || port <= 0)
            return null;

        int? websocket = int.TryParse((string?)graphics.Attribute("websocket"), CultureInfo.InvariantCulture, out var ws) && ws > 0 ? ws : null;
        var host = (string?)graphics.Attribute("listen") ?? "127.0.0.1";
        return new ConsoleEndpoint(host, port, websocket);
    }
}
