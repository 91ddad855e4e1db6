using System.Globalization;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// A node file for libvirt's test driver, written to a temp file for a test class. libvirt's
/// <c>test:///default</c> is one state shared by every connection the process has open (and reset when
/// the last closes), so classes running in parallel see each other's domains. Each open of
/// <c>test:///PATH</c> instead loads the file into a driver state of that connection's own: since an
/// adapter holds one connection, every adapter over <see cref="Uri"/> starts from exactly this node
/// and sees only its own changes.
/// </summary>
public sealed class TestDriverNode : IDisposable
{
    /// <summary>The domain the node starts with, running.</summary>
    public static readonly Guid TestDomainId = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f");

    public const string TestDomainName = "test";
    public const int TestDomainVCpus = 1;
    public const int TestDomainMemoryMiB = 512;
    public const int Cpus = 4;
    public const int MemoryMiB = 8192;

    /// <summary>The test driver gives every pool in a node file this capacity, all of it free.</summary>
    public const int PoolCapacityGiB = 100;

    public const string Pool = "default-pool";

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"vp-test-node-{Guid.NewGuid():N}.xml");

    public TestDriverNode()
    {
        File.WriteAllText(_path, string.Create(CultureInfo.InvariantCulture, $"""
            <node>
              <cpu><mhz>2000</mhz><model>i686</model><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>2</threads><active>{Cpus}</active></cpu>
              <memory>{MemoryMiB * 1024}</memory>
              <domain type='test'>
                <name>{TestDomainName}</name>
                <uuid>{TestDomainId:D}</uuid>
                <memory unit='MiB'>{TestDomainMemoryMiB}</memory>
                <vcpu>{TestDomainVCpus}</vcpu>
                <os><type>hvm</type></os>
              </domain>
              <pool type='dir'>
                <name>{Pool}</name>
                <target><path>/{Pool}</path></target>
              </pool>
            </node>
            """));
    }

    /// <summary><c>test:///</c> and the file's absolute path.</summary>
    public string Uri => "test://" + _path;

    public void Dispose() => File.Delete(_path);
}
