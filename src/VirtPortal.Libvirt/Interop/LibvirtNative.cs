using System.Runtime.InteropServices;

namespace VirtPortal.Libvirt.Interop;

/// <summary>
/// The slice of libvirt's C API the adapter uses. Pointers stay <see cref="nint"/>: strings that
/// libvirt owns (<c>const char*</c>) are read with <see cref="Marshal.PtrToStringUTF8(nint)"/>, never
/// marshalled as <c>string</c> returns, which would free libvirt's buffer. C <c>unsigned long</c> is
/// 8 bytes on Linux x86_64, hence <see cref="ulong"/>.
/// </summary>
internal static unsafe partial class LibvirtNative
{
    private const string Lib = "libvirt.so.0";

    public const int VirUuidStringBufLen = 37;

    // virConnect / host
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virConnectOpen(string name);

    [LibraryImport(Lib)]
    public static partial int virConnectClose(nint conn);

    [LibraryImport(Lib)]
    public static partial int virConnectRef(nint conn);

    [LibraryImport(Lib)]
    public static partial int virConnectIsAlive(nint conn);

    [LibraryImport(Lib)]
    public static partial int virConnectSetKeepAlive(nint conn, int interval, uint count);

    /// <summary>
    /// One callback per connection, called once (on libvirt's event-loop thread) when the connection
    /// closes for any reason but the caller's own close. Holds a reference on the connection until it
    /// fires or is unregistered.
    /// </summary>
    [LibraryImport(Lib)]
    public static partial int virConnectRegisterCloseCallback(nint conn, nint callback, nint opaque, nint freeCallback);

    [LibraryImport(Lib)]
    public static partial int virConnectUnregisterCloseCallback(nint conn, nint callback);

    /// <summary>Caller frees the returned string.</summary>
    [LibraryImport(Lib)]
    public static partial nint virConnectGetHostname(nint conn);

    [LibraryImport(Lib)]
    public static partial int virNodeGetInfo(nint conn, out VirNodeInfo info);

    [LibraryImport(Lib)]
    public static partial int virConnectGetLibVersion(nint conn, out ulong libVer);

    /// <summary>The host's capabilities XML (host CPU, guest architectures and domain types); caller frees it.</summary>
    [LibraryImport(Lib)]
    public static partial nint virConnectGetCapabilities(nint conn);

    /// <summary>
    /// The CPU that all <paramref name="xmlCpus"/> share; with <see cref="LibvirtConstants.BaselineExpandFeatures"/>
    /// every feature is listed, including those its model implies. Caller frees the result.
    /// </summary>
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virConnectBaselineCPU(nint conn, string[] xmlCpus, uint ncpus, uint flags);

    /// <summary>Caller frees each domain and the array.</summary>
    [LibraryImport(Lib)]
    public static partial int virConnectListAllDomains(nint conn, out nint domains, uint flags);

    // virDomain
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virDomainLookupByUUIDString(nint conn, string uuid);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virDomainDefineXML(nint conn, string xml);

    [LibraryImport(Lib)]
    public static partial int virDomainCreate(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainShutdown(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainDestroy(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainReboot(nint domain, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainSuspend(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainResume(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainUndefineFlags(nint domain, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainGetState(nint domain, out int state, out int reason, uint flags);

    /// <summary>libvirt owns the returned string (valid while the domain object lives).</summary>
    [LibraryImport(Lib)]
    public static partial nint virDomainGetName(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainGetUUIDString(nint domain, byte* buf);

    [LibraryImport(Lib)]
    public static partial int virDomainGetInfo(nint domain, out VirDomainInfo info);

    /// <summary>Caller frees the returned string.</summary>
    [LibraryImport(Lib)]
    public static partial nint virDomainGetXMLDesc(nint domain, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainFree(nint domain);

    [LibraryImport(Lib)]
    public static partial int virDomainSetVcpusFlags(nint domain, uint nvcpus, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainSetMemoryFlags(nint domain, ulong memoryKiB, uint flags);

    /// <summary>Caller frees the record list with <see cref="virDomainStatsRecordListFree"/> (which also frees each record's domain).</summary>
    [LibraryImport(Lib)]
    public static partial int virConnectGetAllDomainStats(nint conn, uint stats, out nint records, uint flags);

    [LibraryImport(Lib)]
    public static partial void virDomainStatsRecordListFree(nint records);

    // Storage
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virStoragePoolLookupByName(nint conn, string name);

    [LibraryImport(Lib)]
    public static partial int virStoragePoolGetInfo(nint pool, out VirStoragePoolInfo info);

    [LibraryImport(Lib)]
    public static partial int virStoragePoolFree(nint pool);

    [LibraryImport(Lib)]
    public static partial int virStoragePoolRefresh(nint pool, uint flags);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virStorageVolLookupByName(nint pool, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virStorageVolCreateXML(nint pool, string xml, uint flags);

    /// <summary>Caller frees the returned string.</summary>
    [LibraryImport(Lib)]
    public static partial nint virStorageVolGetPath(nint volume);

    [LibraryImport(Lib)]
    public static partial int virStorageVolDelete(nint volume, uint flags);

    [LibraryImport(Lib)]
    public static partial int virStorageVolFree(nint volume);

    // Errors
    [LibraryImport(Lib)]
    public static partial nint virGetLastError();

    [LibraryImport(Lib)]
    public static partial void virResetLastError();

    [LibraryImport(Lib)]
    public static partial void virSetErrorFunc(nint userData, delegate* unmanaged[Cdecl]<nint, nint, void> handler);

    // Events
    [LibraryImport(Lib)]
    public static partial int virEventRegisterDefaultImpl();

    [LibraryImport(Lib)]
    public static partial int virEventRunDefaultImpl();

    [LibraryImport(Lib)]
    public static partial int virConnectDomainEventRegisterAny(
        nint conn, nint domain, int eventId, nint callback, nint opaque, nint freeCallback);

    [LibraryImport(Lib)]
    public static partial int virConnectDomainEventDeregisterAny(nint conn, int callbackId);

    /// <summary>Frees memory libvirt handed to the caller (it allocates with the C allocator).</summary>
    public static void Free(nint pointer)
    {
        if (pointer != 0)
            NativeMemory.Free((void*)pointer);
    }

    /// <summary>Reads and frees a caller-owned string.</summary>
    public static string? TakeString(nint pointer)
    {
        if (pointer == 0)
            return null;
        var value = Marshal.PtrToStringUTF8(pointer);
        Free(pointer);
        return value;
    }

    public static string DomainUuid(nint domain)
    {
        var buffer = stackalloc byte[VirUuidStringBufLen];
        if (virDomainGetUUIDString(domain, buffer) < 0)
            throw LibvirtError.Last();
        return Marshal.PtrToStringUTF8((nint)buffer) ?? string.Empty;
    }

    public static string DomainName(nint domain)
    {
        var name = virDomainGetName(domain);
        if (name == 0)
            throw LibvirtError.Last();
        return Marshal.PtrToStringUTF8(name) ?? string.Empty;
    }
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirNodeInfo
{
    public fixed byte Model[32];
    public ulong MemoryKiB;
    public uint Cpus;
    public uint Mhz;
    public uint Nodes;
    public uint Sockets;
    public uint Cores;
    public uint Threads;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainInfo
{
    public byte State;
    public ulong MaxMemKiB;
    public ulong MemoryKiB;
    public ushort NrVirtCpu;
    public ulong CpuTime;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VirStoragePoolInfo
{
    public int State;
    public ulong Capacity;
    public ulong Allocation;
    public ulong Available;
}

/// <summary>virDomainStatsRecord: the domain, its typed parameters and their count.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainStatsRecord
{
    public nint Domain;
    public nint Params;
    public int NParams;
}

/// <summary>virTypedParameter: 96 bytes, an 80-byte name, the type at 80 and the value union at 88.</summary>
[StructLayout(LayoutKind.Explicit, Size = 96)]
internal unsafe struct VirTypedParameter
{
    [FieldOffset(0)]
    public fixed byte Field[80];

    [FieldOffset(80)]
    public int Type;

    [FieldOffset(88)]
    public long Value;

    [FieldOffset(88)]
    public double DoubleValue;

    public const int TypeInt = 1;
    public const int TypeUInt = 2;
    public const int TypeLLong = 3;
    public const int TypeULLong = 4;
    public const int TypeDouble = 5;
    public const int TypeBoolean = 6;

    public string Name
    {
        get
        {
            fixed (byte* p = Field)
            {
                return Marshal.PtrToStringUTF8((nint)p) ?? string.Empty;
            }
        }
    }

    /// <summary>The value as an unsigned counter; strings and negative numbers give null.</summary>
    public ulong? AsUInt64 => Type switch
    {
        TypeInt => Value is var v && (int)v >= 0 ? (ulong)(int)v : null,
        TypeUInt => (uint)Value,
        TypeLLong => Value >= 0 ? (ulong)Value : null,
        TypeULLong => unchecked((ulong)Value),
        TypeDouble => DoubleValue >= 0 ? (ulong)DoubleValue : null,
        TypeBoolean => (ulong)(int)Value,
        _ => null,
    };
}

internal static class LibvirtConstants
{
    public const uint UndefineManagedSave = 1;
    public const uint UndefineSnapshotsMetadata = 2;
    public const uint AffectConfig = 2;
    public const uint VcpuMaximum = 4;
    public const uint MemMaximum = 4;
    public const uint XmlSecure = 1;
    public const uint BaselineExpandFeatures = 1;
    public const int EventIdLifecycle = 0;

    // virDomainStatsTypes
    public const uint StatsState = 1;
    public const uint StatsCpuTotal = 2;
    public const uint StatsBalloon = 4;
    public const uint StatsVcpu = 8;
    public const uint StatsInterface = 16;
    public const uint StatsBlock = 32;

    /// <summary>VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT: skip a domain whose job lock is held instead of waiting for it (libvirt 4.5+).</summary>
    public const uint StatsNoWait = 1u << 29;
}

internal static class LibvirtErrorCodes
{
    public const int NoSupport = 3;
    public const int NoConnect = 5;
    public const int InvalidConn = 6;
    public const int InvalidArg = 8;
    public const int OperationFailed = 9;
    public const int DomExist = 28;
    public const int OperationDenied = 29;
    public const int SystemError = 38;
    public const int Rpc = 39;
    public const int NoDomain = 42;
    public const int AuthFailed = 45;
    public const int NoStoragePool = 49;
    public const int NoStorageVol = 50;
    public const int OperationInvalid = 55;
    public const int OperationTimeout = 68;
    public const int ResourceBusy = 87;
    public const int AccessDenied = 88;

    public const int FromRpc = 7;
    public const int FromRemote = 13;
}
