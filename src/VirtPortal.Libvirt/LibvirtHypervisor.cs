using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VirtPortal.Core.Provisioning;
using VirtPortal.Libvirt.Interop;

namespace VirtPortal.Libvirt;

/// <summary>
/// <see cref="IHypervisor"/> for one libvirt URI. One connection per host, opened on first use and
/// reopened by the next call once it died (libvirtd restarted, keepalive timed out). While anyone
/// subscribes to events, a closed connection is also reopened at once, with backoff, so events resume
/// without waiting for a call. libvirt calls block, so each runs on the thread pool and reads libvirt's
/// (thread-local) last error on the same thread. Errors become <see cref="HypervisorException"/>s here
/// and nowhere else.
/// </summary>
public sealed class LibvirtHypervisor : IHypervisor
{
    private readonly LibvirtHostOptions _options;
    private readonly string _uri;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<LifecycleSubscription> _subscriptions = [];
    private readonly Dictionary<LifecycleSubscription, int> _callbackIds = [];
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();

    // Weak, so that libvirt's pointer to the adapter does not keep an undisposed adapter alive.
    private readonly GCHandle _self;
    private nint _connection;
    private bool _disposed;
    private int _reconnecting;
    private bool _statsNoWaitRefused;

    public LibvirtHypervisor(LibvirtHostOptions options, ILogger<LibvirtHypervisor>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _uri = options.Uri;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _self = GCHandle.Alloc(this, GCHandleType.Weak);
    }

    public Task<HostFacts> GetHostFactsAsync(CancellationToken ct) => RunAsync(connection =>
    {
        var hostname = LibvirtNative.TakeString(LibvirtNative.virConnectGetHostname(connection)) ?? throw LibvirtError.Last();
        Check(LibvirtNative.virNodeGetInfo(connection, out var node));
        Check(LibvirtNative.virConnectGetLibVersion(connection, out var version));
        var (capacity, free) = ReadPool(connection);
        var capabilities = ReadCapabilities(connection);
        return new HostFacts(
            hostname, (int)node.Cpus, (long)(node.MemoryKiB / 1024), (long)(capacity >> 30), (long)(free >> 30),
            $"libvirt {version / 1_000_000}.{version / 1000 % 1000}.{version % 1000}",
            capabilities.KvmAvailable, capabilities.Reason);
    }, ct);

    /// <summary>The host's capabilities, with its CPU expanded so that flags its model implies count (see <see cref="HostCapabilities"/>).</summary>
    private HostCapabilities ReadCapabilities(nint connection)
    {
        if (LibvirtNative.TakeString(LibvirtNative.virConnectGetCapabilities(connection)) is not { } xml)
        {
            var error = LibvirtError.Last().Error;
            throw new LibvirtErrorException(error with { Message = $"The host's capabilities could not be read: {error.Message}" });
        }

        string? expanded = null;
        if (HostCapabilities.HostCpuXml(xml) is { } cpu)
        {
            expanded = LibvirtNative.TakeString(LibvirtNative.virConnectBaselineCPU(connection, [cpu], 1, LibvirtConstants.BaselineExpandFeatures));
            if (expanded is null)
            {
                // An old or restricted daemon: the features the capabilities list still count.
                LibvirtLog.CpuNotExpanded(_logger, _uri, LibvirtError.Last().Message);
            }
        }

        return HostCapabilities.Parse(xml, expanded);
    }

    public Task<IReadOnlyList<DomainInfo>> ListDomainsAsync(CancellationToken ct) => RunAsync<IReadOnlyList<DomainInfo>>(connection =>
    {
        var count = LibvirtNative.virConnectListAllDomains(connection, out var array, 0);
        if (count < 0)
            throw LibvirtError.Last();
        var domains = new List<DomainInfo>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                try
                {
                    domains.Add(ReadInfo(Marshal.ReadIntPtr(array, i * IntPtr.Size)));
                }
                catch (LibvirtErrorException e) when (e.Error.Code == LibvirtErrorCodes.NoDomain)
                {
                    // Undefined between the listing and this read: it is simply no longer there.
                }
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
                _ = LibvirtNative.virDomainFree(Marshal.ReadIntPtr(array, i * IntPtr.Size));
            LibvirtNative.Free(array);
        }

        return domains;
    }, ct);

    public Task<DomainInfo?> GetDomainAsync(Guid id, CancellationToken ct) => RunAsync(connection =>
    {
        var domain = TryLookup(connection, id);
        if (domain == 0)
            return null;
        try
        {
            return (DomainInfo?)ReadInfo(domain);
        }
        finally
        {
            _ = LibvirtNative.virDomainFree(domain);
        }
    }, ct);

    public Task<DomainInfo> DefineAsync(DomainSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        DomainXml.ValidateImageRef(spec.ImageRef);
        return RunAsync(connection =>
        {
            var domain = TryLookup(connection, spec.Id);
            if (domain == 0)
            {
                var diskPath = PoolStorage.EnsureOverlay(connection, _options.StoragePool, spec);
                domain = LibvirtNative.virDomainDefineXML(connection, DomainXml.Build(spec, _options, diskPath));
                if (domain == 0)
                {
                    var error = LibvirtError.Last();
                    RemoveOverlayQuietly(connection, spec.Id);
                    throw error;
                }

                LibvirtLog.DomainDefined(_logger, spec.Id, spec.Name, _uri);
            }

            try
            {
                return ReadInfo(domain);
            }
            finally
            {
                _ = LibvirtNative.virDomainFree(domain);
            }
        }, ct);
    }

    public Task StartAsync(Guid id, CancellationToken ct) => OnDomainAsync(id, domain =>
    {
        if (StateOf(domain) is DomainState.Running)
            return;
        Check(LibvirtNative.virDomainCreate(domain));
    }, ct);

    public Task ShutdownAsync(Guid id, CancellationToken ct) => OnDomainAsync(id, domain =>
    {
        if (StateOf(domain) is DomainState.Shutoff)
            return;
        if (LibvirtNative.virDomainShutdown(domain) < 0)
        {
            var error = LibvirtError.Last();
            // Powered off between the look and the press (on its own, or on an earlier press heard late):
            // that is what the button was for.
            if (StateOf(domain) is DomainState.Shutoff)
                return;
            throw error;
        }
    }, ct);

    public Task ForceOffAsync(Guid id, CancellationToken ct) => OnDomainAsync(id, domain =>
    {
        if (StateOf(domain) is DomainState.Shutoff)
            return;
        Check(LibvirtNative.virDomainDestroy(domain));
    }, ct);

    public Task RebootAsync(Guid id, CancellationToken ct) => OnDomainAsync(id, domain =>
    {
        RequireActive(domain);
        Check(LibvirtNative.virDomainReboot(domain, 0));
    }, ct);

    public Task SuspendAsync(Guid id, CancellationToken ct) => OnDomainAsync(id, domain =>
    {
        if (RequireActive(domain) is DomainState.Paused)
            return;
        Check(LibvirtNative.virDomainSuspend(domain));
    }, ct);

    public Task ResumeAsync(Guid id, CancellationToken ct) => OnDomainAsync(id, domain =>
    {
        if (RequireActive(domain) is DomainState.Running)
            return;
        Check(LibvirtNative.virDomainResume(domain));
    }, ct);

    public Task ResizeAsync(Guid id, int vcpus, int memoryMiB, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vcpus);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryMiB);
        return OnDomainAsync(id, domain =>
        {
            if (StateOf(domain) is not DomainState.Shutoff)
                throw new HypervisorConflictException("The domain must be shut off to change its vCPUs or memory.");

            const uint config = LibvirtConstants.AffectConfig;
            Check(LibvirtNative.virDomainGetInfo(domain, out var info));
            // The maximum must hold the current value at every step, so the order depends on the direction.
            if (vcpus >= info.NrVirtCpu)
            {
                Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)vcpus, config | LibvirtConstants.VcpuMaximum));
                Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)vcpus, config));
            }
            else
            {
                Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)vcpus, config));
                Check(LibvirtNative.virDomainSetVcpusFlags(domain, (uint)vcpus, config | LibvirtConstants.VcpuMaximum));
            }

            var memoryKiB = (ulong)memoryMiB * 1024;
            if (memoryKiB >= info.MaxMemKiB)
            {
                Check(LibvirtNative.virDomainSetMemoryFlags(domain, memoryKiB, config | LibvirtConstants.MemMaximum));
                Check(LibvirtNative.virDomainSetMemoryFlags(domain, memoryKiB, config));
            }
            else
            {
                Check(LibvirtNative.virDomainSetMemoryFlags(domain, memoryKiB, config));
                Check(LibvirtNative.virDomainSetMemoryFlags(domain, memoryKiB, config | LibvirtConstants.MemMaximum));
            }
        }, ct);
    }

    public Task DeleteAsync(Guid id, CancellationToken ct) => RunAsync(connection =>
    {
        var domain = TryLookup(connection, id);
        if (domain == 0)
        {
            // A create that failed half-way, or a delete interrupted after undefine, may leave the disk.
            PoolStorage.DeleteOverlay(connection, _options.StoragePool, id);
            return 0;
        }

        try
        {
            // Each step tolerates the domain having moved on meanwhile (stopped, or deleted by another client).
            if (StateOf(domain) is not DomainState.Shutoff && LibvirtNative.virDomainDestroy(domain) < 0)
                IgnoreUnless(LibvirtErrorCodes.OperationInvalid, LibvirtErrorCodes.NoDomain);
            if (LibvirtNative.virDomainUndefineFlags(domain, UndefineFlags) < 0)
                IgnoreUnless(LibvirtErrorCodes.NoDomain);
            PoolStorage.DeleteOverlay(connection, _options.StoragePool, id);
            LibvirtLog.DomainDeleted(_logger, id, _uri);
            return 0;
        }
        finally
        {
            _ = LibvirtNative.virDomainFree(domain);
        }
    }, ct);

    public Task<IReadOnlyList<DomainStats>> GetAllStatsAsync(CancellationToken ct) => RunAsync<IReadOnlyList<DomainStats>>(connection =>
    {
        // NOWAIT keeps a domain busy with a long job (a migration, a stuck monitor) from stalling the
        // whole host's sample; a daemon older than 4.5 refuses the flag, and is then asked without it.
        var flags = Volatile.Read(ref _statsNoWaitRefused) ? 0 : LibvirtConstants.StatsNoWait;
        var count = LibvirtNative.virConnectGetAllDomainStats(connection, DomainStatsReader.Groups, out var records, flags);
        if (count < 0 && flags != 0)
        {
            var refused = LibvirtError.Last();
            if (refused.Error.Code is not (LibvirtErrorCodes.InvalidArg or LibvirtErrorCodes.NoSupport))
                throw refused;
            LibvirtLog.StatsNoWaitRefused(_logger, _uri, refused.Error.Message);
            Volatile.Write(ref _statsNoWaitRefused, true);
            count = LibvirtNative.virConnectGetAllDomainStats(connection, DomainStatsReader.Groups, out records, 0);
        }

        if (count < 0)
            throw LibvirtError.Last();
        var at = _time.GetUtcNow();
        try
        {
            var stats = new List<DomainStats>(count);
            for (var i = 0; i < count; i++)
            {
                var record = Marshal.PtrToStructure<VirDomainStatsRecord>(Marshal.ReadIntPtr(records, i * IntPtr.Size));
                stats.Add(DomainStatsReader.Read(Guid.Parse(LibvirtNative.DomainUuid(record.Domain)), at, record));
            }

            return stats;
        }
        finally
        {
            LibvirtNative.virDomainStatsRecordListFree(records);
        }
    }, ct);

    public Task<ConsoleEndpoint?> GetConsoleAsync(Guid id, CancellationToken ct) => RunAsync(connection =>
    {
        var domain = TryLookup(connection, id) is var d && d != 0 ? d : throw NoDomain(id);
        try
        {
            if (StateOf(domain) is not (DomainState.Running or DomainState.Paused))
                return null;
            var xml = LibvirtNative.TakeString(LibvirtNative.virDomainGetXMLDesc(domain, 0)) ?? throw LibvirtError.Last();
            return DomainXml.ReadConsole(xml);
        }
        finally
        {
            _ = LibvirtNative.virDomainFree(domain);
        }
    }, ct);

    public IDisposable SubscribeEvents(Func<DomainEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new LifecycleSubscription(handler, _logger, Unsubscribe);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _subscriptions.Add(subscription);
        }

        // Registering needs the connection; when the host is down, the next successful open registers it.
        try
        {
            Run(connection =>
            {
                lock (_gate)
                {
                    if (_connection == connection && !_callbackIds.ContainsKey(subscription) && _subscriptions.Contains(subscription))
                        _callbackIds[subscription] = subscription.Register(connection);
                }

                return 0;
            });
        }
        catch (HypervisorUnreachableException ex)
        {
            LibvirtLog.EventsDeferred(_logger, ex, _uri);
        }

        return subscription;
    }

    public ValueTask DisposeAsync()
    {
        List<LifecycleSubscription> subscriptions;
        lock (_gate)
        {
            if (_disposed)
                return ValueTask.CompletedTask;
            subscriptions = [.. _subscriptions];
        }

        foreach (var subscription in subscriptions)
            subscription.Dispose();
        _stopping.Cancel();
        lock (_gate)
        {
            _disposed = true;
            if (_connection != 0)
            {
                ReleaseLocked(_connection);
                _connection = 0;
            }
        }

        // No connection holds the close callback any more, so libvirt no longer knows the handle.
        _self.Free();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private const uint UndefineFlags = LibvirtConstants.UndefineManagedSave | LibvirtConstants.UndefineSnapshotsMetadata;

    private void Unsubscribe(LifecycleSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
            if (_callbackIds.Remove(subscription, out var callbackId) && _connection != 0
                && LibvirtNative.virConnectDomainEventDeregisterAny(_connection, callbackId) < 0)
            {
                LibvirtNative.virResetLastError();
            }
        }
    }

    private Task<T> RunAsync<T>(Func<nint, T> call, CancellationToken ct) => Task.Run(() => Run(call), ct);

    private Task<int> OnDomainAsync(Guid id, Action<nint> call, CancellationToken ct) => RunAsync(connection =>
    {
        var domain = TryLookup(connection, id) is var d && d != 0 ? d : throw NoDomain(id);
        try
        {
            call(domain);
            return 0;
        }
        finally
        {
            _ = LibvirtNative.virDomainFree(domain);
        }
    }, ct);

    /// <summary>Runs one synchronous libvirt conversation on a referenced connection and translates its errors.</summary>
    private T Run<T>(Func<nint, T> call)
    {
        var connection = AcquireConnection();
        try
        {
            return call(connection);
        }
        catch (LibvirtErrorException ex)
        {
            if (ex.Error.IsConnectionFailure || LibvirtNative.virConnectIsAlive(connection) != 1)
            {
                LibvirtNative.virResetLastError();
                DropConnection(connection);
                throw new HypervisorUnreachableException($"{_uri}: {ex.Message}", ex);
            }

            throw ex.Error.ToHypervisorException(ex);
        }
        finally
        {
            _ = LibvirtNative.virConnectClose(connection);
        }
    }

    private nint AcquireConnection()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // A connection whose peer went away (libvirtd restarted, keepalive timed out) stays
            // "open" on this side; using it would only fail, so the call gets a fresh one instead.
            if (_connection != 0 && LibvirtNative.virConnectIsAlive(_connection) == 0)
            {
                ReleaseLocked(_connection);
                _connection = 0;
                LibvirtLog.ConnectionLost(_logger, _uri);
            }

            if (_connection == 0)
                _connection = Open();
            _ = LibvirtNative.virConnectRef(_connection);
            return _connection;
        }
    }

    private nint Open()
    {
        LibvirtEventLoop.EnsureStarted();
        var connection = LibvirtNative.virConnectOpen(_uri);
        if (connection == 0)
        {
            var error = LibvirtError.Last();
            throw new HypervisorUnreachableException($"Cannot connect to {_uri}: {error.Message}", error);
        }

        // Keepalive lets a remote connection notice a dead peer; local drivers do not support it.
        if (LibvirtNative.virConnectSetKeepAlive(connection, 5, 3) < 0)
            LibvirtNative.virResetLastError();
        if (LibvirtNative.virConnectRegisterCloseCallback(connection, CloseCallback, GCHandle.ToIntPtr(_self), 0) < 0)
            LibvirtNative.virResetLastError();

        _callbackIds.Clear();
        foreach (var subscription in _subscriptions)
        {
            try
            {
                _callbackIds[subscription] = subscription.Register(connection);
            }
            catch (LibvirtErrorException ex)
            {
                LibvirtLog.SubscribeFailed(_logger, ex, _uri);
            }
        }

        LibvirtLog.Connected(_logger, _uri);
        return connection;
    }

    private void DropConnection(nint connection)
    {
        lock (_gate)
        {
            if (_connection != connection)
                return;
            _connection = 0;
            ReleaseLocked(connection);
        }

        LibvirtLog.ConnectionLost(_logger, _uri);
    }

    /// <summary>Gives up the adapter's own reference to a connection; calls still running keep theirs.</summary>
    private void ReleaseLocked(nint connection)
    {
        _callbackIds.Clear();
        // The close callback holds a reference too; without this the connection would never be freed.
        if (LibvirtNative.virConnectUnregisterCloseCallback(connection, CloseCallback) < 0)
            LibvirtNative.virResetLastError();
        _ = LibvirtNative.virConnectClose(connection);
        LibvirtNative.virResetLastError();
    }

    private static unsafe nint CloseCallback => (nint)(delegate* unmanaged[Cdecl]<nint, int, nint, void>)&OnConnectionClosed;

    /// <summary>On libvirt's event-loop thread, which must not block: reconnecting happens elsewhere.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnConnectionClosed(nint connection, int reason, nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not LibvirtHypervisor hypervisor)
            return;
        LibvirtLog.ConnectionClosed(hypervisor._logger, hypervisor._uri, reason);
        hypervisor.ReconnectForSubscribers();
    }

    private void ReconnectForSubscribers()
    {
        if (Interlocked.Exchange(ref _reconnecting, 1) == 0)
            _ = Task.Run(ReconnectAsync);
    }

    /// <summary>
    /// Reopens the connection (which registers every subscription again) with exponential backoff
    /// up to 30 s, for as long as anyone subscribes and the adapter lives.
    /// </summary>
    private async Task ReconnectAsync()
    {
        var delay = TimeSpan.FromSeconds(1);
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_disposed || _subscriptions.Count == 0)
                        return;
                }

                try
                {
                    Run(_ => 0);
                    return;
                }
                catch (HypervisorUnreachableException)
                {
                    // The host is still down; try again later.
                }

                await Task.Delay(delay, _time, _stopping.Token);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed while waiting.
        }
        catch (ObjectDisposedException)
        {
            // Disposed between two attempts.
        }
        finally
        {
            Volatile.Write(ref _reconnecting, 0);
        }
    }

    private (ulong Capacity, ulong Free) ReadPool(nint connection)
    {
        var pool = LibvirtNative.virStoragePoolLookupByName(connection, _options.StoragePool);
        if (pool == 0)
        {
            // A host without the pool still runs kernel-booted guests; it reports no storage.
            LibvirtNative.virResetLastError();
            LibvirtLog.PoolMissing(_logger, _options.StoragePool, _uri);
            return (0, 0);
        }

        try
        {
            Check(LibvirtNative.virStoragePoolGetInfo(pool, out var info));
            return (info.Capacity, info.Available);
        }
        finally
        {
            _ = LibvirtNative.virStoragePoolFree(pool);
        }
    }

    private void RemoveOverlayQuietly(nint connection, Guid id)
    {
        try
        {
            PoolStorage.DeleteOverlay(connection, _options.StoragePool, id);
        }
        catch (LibvirtErrorException ex)
        {
            // The create's own error is what the caller needs; a leftover disk goes with the next delete.
            LibvirtLog.OverlayNotRemoved(_logger, ex, id, _uri);
        }
    }

    private static nint TryLookup(nint connection, Guid id)
    {
        var domain = LibvirtNative.virDomainLookupByUUIDString(connection, id.ToString("D"));
        if (domain == 0)
            IgnoreUnless(LibvirtErrorCodes.NoDomain);
        return domain;
    }

    private static HypervisorNotFoundException NoDomain(Guid id) => new($"Domain not found: no domain with matching uuid '{id:D}'");

    /// <summary>Clears the last error when it is one of <paramref name="expected"/>; throws it otherwise.</summary>
    private static void IgnoreUnless(params int[] expected)
    {
        var error = LibvirtError.Last();
        if (!expected.Contains(error.Error.Code))
            throw error;
    }

    private static void Check(int result)
    {
        if (result < 0)
            throw LibvirtError.Last();
    }

    private static DomainState StateOf(nint domain)
    {
        Check(LibvirtNative.virDomainGetState(domain, out var state, out _, 0));
        return MapState(state);
    }

    /// <summary>
    /// Drivers word "not running" differently (QEMU: invalid operation, the test driver: internal
    /// error), so the adapter checks the state itself and reports one conflict.
    /// </summary>
    private static DomainState RequireActive(nint domain)
    {
        var state = StateOf(domain);
        if (state is DomainState.Shutoff or DomainState.Crashed)
            throw new HypervisorConflictException($"Requested operation is not valid: domain '{LibvirtNative.DomainName(domain)}' is not running");
        return state;
    }

    private static DomainInfo ReadInfo(nint domain)
    {
        Check(LibvirtNative.virDomainGetInfo(domain, out var info));
        return new DomainInfo(
            Guid.Parse(LibvirtNative.DomainUuid(domain)), LibvirtNative.DomainName(domain), MapState(info.State),
            info.NrVirtCpu, (int)(info.MaxMemKiB / 1024));
    }

    /// <summary>virDomainState; "blocked" and "being shut down" are still running to the portal.</summary>
    internal static DomainState MapState(int state) => state switch
    {
        1 or 2 or 4 => DomainState.Running,
        3 => DomainState.Paused,
        5 => DomainState.Shutoff,
        6 => DomainState.Crashed,
        7 => DomainState.PMSuspended,
        _ => DomainState.Unknown,
    };
}
