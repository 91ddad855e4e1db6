using System.ComponentModel.DataAnnotations;

namespace VirtPortal.Libvirt;

/// <summary>What every libvirt host of this portal gives its guests ("Libvirt" in configuration).</summary>
public sealed class LibvirtOptions
{
    public const string Section = "Libvirt";

    /// <summary>"user" (QEMU user-mode networking, the default: works on any host), a libvirt network's name, or "" for no NIC.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{0,64}$", ErrorMessage = "Libvirt:Network must be \"user\", a libvirt network's name, or empty.")]
    public string Network { get; set; } = DomainXml.UserNetwork;

    /// <summary>Storage pool for guest disks (qcow2 overlays of the template images in it).</summary>
    [Required(ErrorMessage = "Libvirt:StoragePool is required.")]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Libvirt:StoragePool must be a plain pool name.")]
    public string StoragePool { get; set; } = "default";

    /// <summary>Where kernel + initrd images (ImageRef.vmlinuz, ImageRef.initrd) live on the hosts.</summary>
    [Required(ErrorMessage = "Libvirt:ImageDirectory is required.")]
    public string ImageDirectory { get; set; } = "/var/lib/libvirt/images";

    /// <summary>Where hosts log each guest's serial console; empty turns the log off.</summary>
    public string? ConsoleLogDirectory { get; set; } = "/var/log/libvirt/qemu";
}
