using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt.Interop;

namespace VirtPortal.Libvirt;

/// <summary>
/// One <see cref="IHypervisor.SubscribeEvents"/> handler. libvirt calls back on its event-loop thread,
/// which must not block, so events are queued and handed to the handler in order by one pump task.
/// </summary>
internal sealed class LifecycleSubscription : IDisposable
{
    private readonly Channel<DomainEvent> _events = Channel.CreateUnbounded<DomainEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<DomainEvent, Task> _handler;
    private readonly ILogger _logger;
    private readonly Action<LifecycleSubscription> _onDispose;
    private readonly Task _pump;
    private int _disposed;

    public LifecycleSubscription(Func<DomainEvent, Task> handler, ILogger logger, Action<LifecycleSubscription> onDispose)
    {
        _handler = handler;
        _logger = logger;
        _onDispose = onDispose;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Registers this subscription on a connection; the GC handle is freed by libvirt's free callback.</summary>
    public unsafe int Register(nint connection)
    {
        var handle = GCHandle.Alloc(this);
        var id = LibvirtNative.virConnectDomainEventRegisterAny(
            connection, 0, LibvirtConstants.EventIdLifecycle,
            (nint)(delegate* unmanaged[Cdecl]<nint, nint, int, int, nint, int>)&OnLifecycle,
            GCHandle.ToIntPtr(handle),
            (nint)(delegate* unmanaged[Cdecl]<nint, void>)&FreeHandle);
        if (id < 0)
        {
            handle.Free();
            throw LibvirtError.Last();
        }

        return id;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _onDispose(this);
        _events.Writer.TryComplete();
    }

    private async Task PumpAsync()
    {
        await foreach (var domainEvent in _events.Reader.ReadAllAsync())
        {
            try
            {
                await _handler(domainEvent);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One failing subscriber must not stop the events that follow.
                LibvirtLog.HandlerFailed(_logger, ex, domainEvent.Id, domainEvent.Detail);
            }
        }
    }

    private void Post(DomainEvent domainEvent)
    {
        if (Volatile.Read(ref _disposed) == 0)
            _events.Writer.TryWrite(domainEvent);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnLifecycle(nint connection, nint domain, int eventType, int detail, nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not LifecycleSubscription subscription)
            return 0;
        try
        {
            var id = Guid.Parse(LibvirtNative.DomainUuid(domain));
            var (state, name) = Describe(eventType, detail);
            subscription.Post(new DomainEvent(id, LibvirtNative.DomainName(domain), state, name));
        }
        catch (LibvirtErrorException ex)
        {
            // An exception must not unwind into libvirt's C stack.
            LibvirtLog.EventUnreadable(subscription._logger, ex);
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeHandle(nint opaque) => GCHandle.FromIntPtr(opaque).Free();

    /// <summary>virDomainEventType and its detail, as the state the domain is in afterwards.</summary>
    internal static (DomainState State, string Detail) Describe(int eventType, int detail) => eventType switch
    {
        // A new definition is inactive; an updated one may belong to a running domain.
        0 => (detail == 0 ? DomainState.Shutoff : DomainState.Unknown, "Defined"),
        1 => (DomainState.Shutoff, "Undefined"),
        2 => (DomainState.Running, detail switch { 0 => "Started", 2 => "Started (restored)", 4 => "Started (wakeup)", _ => "Started" }),
        3 => (DomainState.Paused, "Suspended"),
        4 => (DomainState.Running, "Resumed"),
        5 => (DomainState.Shutoff, detail switch
        {
            0 => "Stopped (shutdown)",
            1 => "Stopped (destroyed)",
            2 => "Stopped (crashed)",
            3 => "Stopped (migrated)",
            4 => "Stopped (saved)",
            5 => "Stopped (failed)",
            _ => "Stopped",
        }),
        6 => (DomainState.Running, "Shutdown"),
        7 => (DomainState.PMSuspended, "PMSuspended"),
        8 => (DomainState.Crashed, "Crashed"),
        _ => (DomainState.Unknown, $"Event {eventType}"),
    };
}
