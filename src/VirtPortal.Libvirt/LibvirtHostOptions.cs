namespace VirtPortal.Libvirt;

/// <summary>One libvirt host, as configured per host.</summary>
public sealed class LibvirtHostOptions
{
    /// <summary>libvirt connection URI, e.g. <c>qemu:///system</c>, <c>qemu+ssh://host/system</c> or <c>test:///default</c>.</summary>
    public string Uri { get; set; } = "qemu:///system";

    /// <summary>
    /// Domain type: <c>kvm</c> on real hosts, <c>qemu</c> (TCG emulation) where KVM does not work,
    /// <c>test</c> for libvirt's test driver.
    /// </summary>
    public string DomainType { get; set; } = "kvm";

    /// <summary>Storage pool whose capacity the host facts report.</summary>
    public string StoragePool { get; set; } = "default";

    /// <summary>
    /// The guest's NIC: <c>user</c> for QEMU's user-mode networking (outbound NAT, works on any host),
    /// else the name of a libvirt network (<c>default</c> for libvirt's NAT network, or a bridged one);
    /// null or empty gives the guest no NIC.
    /// </summary>
    public string? Network { get; set; }

    /// <summary>
    /// Where boot images live on the host: <see cref="Core.Provisioning.DomainSpec.ImageRef"/> "x" boots
    /// <c>x.vmlinuz</c> with <c>x.initrd</c> from here. QEMU must be able to read them.
    /// </summary>
    public string ImageDirectory { get; set; } = "/var/lib/libvirt/images";

    /// <summary>
    /// Where the host keeps each guest's serial console output, as <c>{name}-console.log</c> (written by
    /// virtlogd, which also caps its size), so a guest that does not boot can be diagnosed after the fact.
    /// Null leaves the console unlogged.
    /// </summary>
    public string? ConsoleLogDirectory { get; set; } = "/var/log/libvirt/qemu";
}
