using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt.Interop;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// Classes that use libvirt's <c>test:///default</c>: one driver state shared by all of the process's
/// open connections, so they run one after another, never beside each other. A class that does not need
/// a second connection to the same state uses a <see cref="TestDriverNode"/> of its own instead.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TestDriverDefaultCollection
{
    public const string Name = "test:///default";
}

/// <summary>
/// Disks as qcow2 overlays in the test driver's in-memory pool. The test arranges and inspects the pool
/// through a raw connection of its own beside the adapter's, which must see the same state: only
/// <c>test:///default</c> is shared between connections (a node file's state is per connection).
/// </summary>
[Collection(TestDriverDefaultCollection.Name)]
public sealed class TestDriverStorageTests : IAsyncLifetime
{
    private const string Pool = "default-pool";
    private readonly LibvirtHypervisor _hypervisor = new(new LibvirtHostOptions { Uri = "test:///default", DomainType = "test", StoragePool = Pool });

    // A connection of the test's own, to arrange and inspect the pool the way an operator would.
    private nint _connection;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await _hypervisor.GetHostFactsAsync(Ct);
        _connection = LibvirtNative.virConnectOpen("test:///default");
        Assert.NotEqual(0, _connection);
    }

    public async ValueTask DisposeAsync()
    {
        await _hypervisor.DisposeAsync();
        _ = LibvirtNative.virConnectClose(_connection);
    }

    [Fact]
    public async Task Create_from_a_base_image_in_the_pool_gets_an_overlay_disk_that_delete_removes()
    {
        var baseImage = $"vp-base-{Guid.NewGuid():N}"[..16];
        CreateVolume(PoolStorage.BaseVolumeName(baseImage));
        var id = Guid.NewGuid();
        var spec = new DomainSpec(id, $"vp-{id:N}"[..16], 1, 128, 2, baseImage);

        var created = await _hypervisor.CreateAsync(spec, Ct);

        Assert.Equal(DomainState.Running, created.State);
        Assert.True(VolumeExists(PoolStorage.OverlayName(id)));

        await _hypervisor.DeleteAsync(id, Ct);

        Assert.False(VolumeExists(PoolStorage.OverlayName(id)));
        Assert.True(VolumeExists(PoolStorage.BaseVolumeName(baseImage)));
    }

    [Fact]
    public async Task Without_a_base_image_the_domain_boots_its_kernel_and_gets_no_volume()
    {
        var id = Guid.NewGuid();

        await _hypervisor.CreateAsync(new DomainSpec(id, $"vp-{id:N}"[..16], 1, 128, 2, "no-such-image"), Ct);

        Assert.False(VolumeExists(PoolStorage.OverlayName(id)));
        await _hypervisor.DeleteAsync(id, Ct);
    }

    private void CreateVolume(string name)
    {
        var pool = LibvirtNative.virStoragePoolLookupByName(_connection, Pool);
        Assert.NotEqual(0, pool);
        var volume = LibvirtNative.virStorageVolCreateXML(
            pool, $"<volume><name>{name}</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>", 0);
        Assert.NotEqual(0, volume);
        _ = LibvirtNative.virStorageVolFree(volume);
        _ = LibvirtNative.virStoragePoolFree(pool);
    }

    private bool VolumeExists(string name)
    {
        var pool = LibvirtNative.virStoragePoolLookupByName(_connection, Pool);
        Assert.NotEqual(0, pool);
        var volume = LibvirtNative.virStorageVolLookupByName(pool, name);
        LibvirtNative.virResetLastError();
        _ = LibvirtNative.virStorageVolFree(volume);
        _ = LibvirtNative.virStoragePoolFree(pool);
        return volume != 0;
    }
}
