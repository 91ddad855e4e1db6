using System.Xml.Linq;
using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt.Interop;

namespace VirtPortal.Libvirt;

/// <summary>
/// A domain's disk: a qcow2 overlay named after the domain's UUID, in the host's storage pool, backed
/// by the base image <c>{ImageRef}.qcow2</c> of the same pool. Naming it by UUID lets a retried create
/// reuse it and a delete find it without the domain's XML.
/// </summary>
internal static class PoolStorage
{
    public static string BaseVolumeName(string imageRef) => imageRef + ".qcow2";

    public static string OverlayName(Guid id) => $"{id:D}.qcow2";

    /// <summary>The overlay's path, created when missing; null when the pool or its base image does not exist (kernel boot).</summary>
    public static string? EnsureOverlay(nint connection, string poolName, DomainSpec spec)
    {
        var pool = LibvirtNative.virStoragePoolLookupByName(connection, poolName);
        if (pool == 0)
        {
            LibvirtNative.virResetLastError();
            return null;
        }

        try
        {
            // Base images are often copied in with qemu-img or cp; a refresh makes them visible.
            if (LibvirtNative.virStoragePoolRefresh(pool, 0) < 0)
                LibvirtNative.virResetLastError();
            var baseVolume = LookupVolume(pool, BaseVolumeName(spec.ImageRef));
            if (baseVolume == 0)
                return null;

            try
            {
                var overlay = LookupVolume(pool, OverlayName(spec.Id));
                if (overlay == 0)
                {
                    var basePath = TakePath(baseVolume);
                    overlay = LibvirtNative.virStorageVolCreateXML(pool, OverlayXml(spec, basePath), 0);
                    if (overlay == 0)
                        throw LibvirtError.Last();
                }

                try
                {
                    return TakePath(overlay);
                }
                finally
                {
                    _ = LibvirtNative.virStorageVolFree(overlay);
                }
            }
            finally
            {
                _ = LibvirtNative.virStorageVolFree(baseVolume);
            }
        }
        finally
        {
            _ = LibvirtNative.virStoragePoolFree(pool);
        }
    }

    /// <summary>Deletes the domain's overlay; succeeds when the pool or the volume does not exist.</summary>
    public static void DeleteOverlay(nint connection, string poolName, Guid id)
    {
        var pool = LibvirtNative.virStoragePoolLookupByName(connection, poolName);
        if (pool == 0)
        {
            LibvirtNative.virResetLastError();
            return;
        }

        try
        {
            var volume = LookupVolume(pool, OverlayName(id));
            if (volume == 0)
                return;
            try
            {
                if (LibvirtNative.virStorageVolDelete(volume, 0) < 0)
                {
                    var error = LibvirtError.Last();
                    if (error.Error.Code != LibvirtErrorCodes.NoStorageVol)
                        throw error;
                }
            }
            finally
            {
                _ = LibvirtNative.virStorageVolFree(volume);
            }
        }
        finally
        {
            _ = LibvirtNative.virStoragePoolFree(pool);
        }
    }

    private static nint LookupVolume(nint pool, string name)
    {
        var volume = LibvirtNative.virStorageVolLookupByName(pool, name);
        if (volume == 0)
        {
            var error = LibvirtError.Last();
            if (error.Error.Code != LibvirtErrorCodes.NoStorageVol)
                throw error;
        }

        return volume;
    }

    private static string TakePath(nint volume) =>
        LibvirtNative.TakeString(LibvirtNative.virStorageVolGetPath(volume)) ?? throw LibvirtError.Last();

    private static string OverlayXml(DomainSpec spec, string basePath) =>
        new XElement("volume",
            new XElement("name", OverlayName(spec.Id)),
            new XElement("capacity", new XAttribute("unit", "GiB"), spec.DiskGiB),
            new XElement("target", new XElement("format", new XAttribute("type", "qcow2"))),
            new XElement("backingStore",
                new XElement("path", basePath),
                new XElement("format", new XAttribute("type", "qcow2")))).ToString(SaveOptions.DisableFormatting);
}
