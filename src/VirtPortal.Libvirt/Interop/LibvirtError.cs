using System.Runtime.InteropServices;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Interop;

/// <summary>libvirt's last error on this thread (virGetLastError is thread-local), read right after the failing call.</summary>
internal sealed record LibvirtError(int Code, int Domain, string Message)
{
    public static LibvirtErrorException Last()
    {
        var pointer = LibvirtNative.virGetLastError();
        if (pointer == 0)
            return new LibvirtErrorException(new LibvirtError(0, 0, "libvirt call failed without an error"));

        // struct _virError { int code; int domain; char *message; ... }
        var code = Marshal.ReadInt32(pointer, 0);
        var domain = Marshal.ReadInt32(pointer, 4);
        var message = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(pointer, 8)) ?? $"libvirt error {code}";
        LibvirtNative.virResetLastError();
        return new LibvirtErrorException(new LibvirtError(code, domain, message));
    }

    /// <summary>True when the error says the connection itself failed rather than the call.</summary>
    public bool IsConnectionFailure => Code is LibvirtErrorCodes.NoConnect or LibvirtErrorCodes.InvalidConn
        or LibvirtErrorCodes.Rpc or LibvirtErrorCodes.OperationTimeout
        || (Code == LibvirtErrorCodes.SystemError && Domain is LibvirtErrorCodes.FromRpc or LibvirtErrorCodes.FromRemote);

    /// <summary>The one place where libvirt's error numbers become the portal's exception types.</summary>
    public HypervisorException ToHypervisorException(Exception inner) => Code switch
    {
        LibvirtErrorCodes.NoDomain or LibvirtErrorCodes.NoStoragePool or LibvirtErrorCodes.NoStorageVol
            => new HypervisorNotFoundException(Message, inner),
        LibvirtErrorCodes.DomExist or LibvirtErrorCodes.OperationInvalid or LibvirtErrorCodes.ResourceBusy
            => new HypervisorConflictException(Message, inner),
        // Defining a name that another UUID holds: libvirt says "already exists" with a generic code.
        LibvirtErrorCodes.OperationFailed when Message.Contains("already exists", StringComparison.Ordinal)
            => new HypervisorConflictException(Message, inner),
        _ when IsConnectionFailure => new HypervisorUnreachableException(Message, inner),
        _ => new HypervisorRefusedException(Message, inner),
    };
}

/// <summary>Carries a <see cref="LibvirtError"/> inside the adapter; never leaves it (see <see cref="LibvirtError.ToHypervisorException"/>).</summary>
internal sealed class LibvirtErrorException : Exception
{
    public LibvirtErrorException(LibvirtError error)
        : base(error.Message) => Error = error;

    public LibvirtError Error { get; }
}
