using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Hosts;

/// <summary>
/// What a host's answer, or its silence, does to its state: the one rule that the reconciler and the
/// metrics collector, which both talk to every host on a timer, apply. Maintenance is an admin's
/// choice and stays until an admin ends it; the contact is still recorded.
/// </summary>
internal static class HostReachability
{
    /// <summary>The host answered: Online, seen now. True when its state changed (publish a <see cref="Live.HostChanged"/>).</summary>
    public static bool Answered(Host host, DateTimeOffset now)
    {
        var before = host.State;
        if (before != HostState.Maintenance)
            host.State = HostState.Online;
        host.LastSeenAt = now;
        host.LastError = null;
        return host.State != before;
    }

    /// <summary>
    /// The host did not answer, or refused us: Unreachable with the host's words, audited once when it
    /// becomes so. True when its state changed.
    /// </summary>
    public static bool Failed(PortalDbContext db, TimeProvider time, Actor by, Host host, string error)
    {
        var before = host.State;
        host.LastError = error;
        if (before is HostState.Unreachable or HostState.Maintenance)
            return false;
        db.Record(time, by, AuditActions.HostUnreachable, $"host {host.Name}", null, error);
        host.State = HostState.Unreachable;
        return true;
    }
}
