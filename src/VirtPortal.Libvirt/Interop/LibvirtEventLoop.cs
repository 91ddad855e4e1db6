using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VirtPortal.Libvirt.Interop;

/// <summary>
/// libvirt's default event loop and error handler are per process, not per connection: they must be
/// registered once, before the first connection opens, and the loop run on a thread of its own. That
/// is why this one piece of the adapter is static.
/// </summary>
internal static unsafe class LibvirtEventLoop
{
    private static readonly Lazy<Thread> Loop = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureStarted() => _ = Loop.Value;

    private static Thread Start()
    {
        // Without a handler libvirt prints every error to stderr; the adapter reads virGetLastError instead.
        LibvirtNative.virSetErrorFunc(0, &IgnoreError);
        if (LibvirtNative.virEventRegisterDefaultImpl() < 0)
            throw LibvirtError.Last();

        var thread = new Thread(Run) { IsBackground = true, Name = "libvirt event loop" };
        thread.Start();
        return thread;
    }

    private static void Run()
    {
        while (true)
        {
            if (LibvirtNative.virEventRunDefaultImpl() < 0)
            {
                LibvirtNative.virResetLastError();
                Thread.Sleep(100);
            }
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void IgnoreError(nint userData, nint error)
    {
    }
}
