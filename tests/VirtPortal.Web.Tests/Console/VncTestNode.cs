using System.Globalization;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// A node file for libvirt's test driver (<c>test:///FILE</c>) whose running domains name, as their VNC
/// server, a port on 127.0.0.1: the portal's real libvirt adapter reports that port as the VM's console.
/// </summary>
internal static class VncTestNode
{
    /// <summary>Writes the node with one domain per (UUID, VNC port) to <paramref name="path"/>; returns the host URI for it.</summary>
    public static async Task<string> WriteAsync(string path, IEnumerable<(Guid Id, int VncPort)> domains, CancellationToken ct)
    {
        var xml = string.Concat(domains.Select(d => string.Create(CultureInfo.InvariantCulture, $"""
            <domain type='test'>
              <name>vnc-{d.Id:N}</name>
              <uuid>{d.Id:D}</uuid>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os><type>hvm</type></os>
              <devices><graphics type='vnc' port='{d.VncPort}' autoport='no' listen='127.0.0.1'/></devices>
            </domain>
            """)));
        await File.WriteAllTextAsync(path, $"""
            <node>
              <cpu><mhz>2000</mhz><model>i686</model><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>2</threads><active>4</active></cpu>
              <memory>8388608</memory>
              {xml}
            </node>
            """, ct);
        return "test://" + path;
    }
}
