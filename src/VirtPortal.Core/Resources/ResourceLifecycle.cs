using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Core.Resources;

/// <summary>
/// A resource's lifecycle in one place: which actions its state offers (the UI's buttons and the
/// server's checks both ask here), how a hypervisor's state reads as a resource state, and every change
/// of <see cref="Resource.State"/> after creation, each of which bumps the version live clients follow.
/// The words are libvirt's; <see cref="Label"/> gives cockpit's.
/// </summary>
public static class ResourceLifecycle
{
    public static readonly OperationKind[] UserActions =
        [OperationKind.Start, OperationKind.Shutdown, OperationKind.ForceOff, OperationKind.Reboot, OperationKind.Suspend, OperationKind.Resume, OperationKind.Delete,
         OperationKind.RotatePassword, OperationKind.Backup];

    public static bool CanStart(ResourceState s) => s is ResourceState.Shutoff or ResourceState.Crashed;

    public static bool CanShutdown(ResourceState s) => s is ResourceState.Running;

    public static bool CanForceOff(ResourceState s) => s is ResourceState.Running or ResourceState.Paused or ResourceState.Crashed or ResourceState.PMSuspended or ResourceState.Unknown;

    public static bool CanReboot(ResourceState s) => s is ResourceState.Running;

    public static bool CanSuspend(ResourceState s) => s is ResourceState.Running;

    public static bool CanResume(ResourceState s) => s is ResourceState.Paused or ResourceState.PMSuspended;

    public static bool CanDelete(ResourceState s) => s is not (ResourceState.Deleting or ResourceState.Deleted);

    public static bool Can(OperationKind action, ResourceKind kind, ResourceState state) => action switch
    {
        // A database has no power actions: it is created, backed up, given a new password and deleted.
        _ when kind == ResourceKind.Database => action switch
        {
            OperationKind.Delete => CanDelete(state),
            OperationKind.RotatePassword or OperationKind.Backup => state == ResourceState.Running,
            _ => false,
        },
        OperationKind.Start => CanStart(state),
        OperationKind.Shutdown => CanShutdown(state),
        OperationKind.ForceOff => CanForceOff(state),
        OperationKind.Reboot => CanReboot(state),
        OperationKind.Suspend => CanSuspend(state),
        OperationKind.Resume => CanResume(state),
        OperationKind.Delete => CanDelete(state),
        _ => false,
    };

    /// <summary>libvirt's name for the domain: "vp-" and the random tail of the resource id.</summary>
    public static string DomainName(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return "vp-" + resource.Id.ToString("N")[20..];
    }

    /// <summary>The resource state a hypervisor's domain state stands for.</summary>
    public static ResourceState StateOf(DomainState state) => state switch
    {
        DomainState.Running => ResourceState.Running,
        DomainState.Paused => ResourceState.Paused,
        DomainState.Shutoff => ResourceState.Shutoff,
        DomainState.Crashed => ResourceState.Crashed,
        DomainState.PMSuspended => ResourceState.PMSuspended,
        _ => ResourceState.Unknown,
    };

    /// <summary>What the host should show for a record in <paramref name="state"/>: an expired resource is a stopped one.</summary>
    public static ResourceState ExpectedOnHost(ResourceState state) => state == ResourceState.Expired ? ResourceState.Shutoff : state;

    /// <summary>
    /// The host shows <paramref name="reported"/> and the portal accepts it (a failed operation's outcome,
    /// an admin accepting drift): the record takes it as the wanted state too, unless the record already
    /// means it (an expired resource stays Expired while it is stopped; only a lease extension brings it back).
    /// </summary>
    public static void Observe(Resource resource, ResourceState reported, DateTimeOffset at) => Want(resource, reported, reported, at);

    /// <summary>
    /// A <paramref name="kind"/> operation succeeded with the host showing <paramref name="reported"/>. The
    /// wanted state is what the operation asked for: a shutdown wants the VM off even while its guest is
    /// still powering down in its own time, a reboot wants it running.
    /// </summary>
    public static void Finished(Resource resource, OperationKind kind, ResourceState reported, DateTimeOffset at) => Want(resource, kind switch
    {
        OperationKind.Shutdown => ResourceState.Shutoff,
        OperationKind.Reboot => ResourceState.Running,
        _ => reported,
    }, reported, at);

    private static void Want(Resource resource, ResourceState wanted, ResourceState reported, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(resource);
        Report(resource, reported, at);
        MoveTo(resource, ExpectedOnHost(resource.State) == wanted ? resource.State : wanted);
        if (resource.State == ResourceState.Deleted)
            resource.DeletedAt ??= at;
    }

    /// <summary>The host confirmed its state at <paramref name="at"/>; keeps <see cref="Resource.ObservedSince"/> when unchanged.</summary>
    private static void Report(Resource resource, ResourceState reported, DateTimeOffset at)
    {
        resource.ObservedAt = at;
        if (resource.ObservedState == reported)
            return;
        resource.ObservedState = reported;
        resource.ObservedSince = at;
    }

    /// <summary>
    /// A host's report (a reconciliation pass, prompted by the timer or by a hypervisor event) of the
    /// resources that run no operation, leaving their wanted state alone. Written as one statement per
    /// changed resource, so a version bumped meanwhile by the provisioning worker is never written over.
    /// A confirmation of the same state only moves <see cref="Resource.ObservedAt"/>. Returns the
    /// resources whose observed state changed, with their new versions.
    /// </summary>
    public static async Task<IReadOnlyList<(Guid Id, Guid TenantId, long Version)>> ReportAsync(
        PortalDbContext db, IReadOnlyDictionary<Guid, ResourceState> reported, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(reported);
        return await AtomicallyAsync(db, async () =>
        {
            var changed = new List<Guid>();
            foreach (var (id, state) in reported)
            {
                var rows = await db.Resources.Where(r => r.Id == id && (r.ObservedState == null || r.ObservedState != state))
                    .ExecuteUpdateAsync(u => u.SetProperty(r => r.ObservedState, state).SetProperty(r => r.ObservedSince, at)
                        .SetProperty(r => r.ObservedAt, at).SetProperty(r => r.Version, r => r.Version + 1), ct);
                if (rows > 0)
                    changed.Add(id);
            }

            var ids = reported.Keys.ToList();
            await db.Resources.Where(r => ids.Contains(r.Id)).ExecuteUpdateAsync(u => u.SetProperty(r => r.ObservedAt, at), ct);
            return await VersionsAsync(db, changed, at, ct);
        }, ct);
    }

    /// <summary>
    /// Their host does not answer: its resources show Unknown from now, and <see cref="Resource.ObservedAt"/>
    /// keeps when each was last confirmed. Returns those whose state that changed, with their new versions.
    /// </summary>
    public static Task<IReadOnlyList<(Guid Id, Guid TenantId, long Version)>> HostLostAsync(PortalDbContext db, Guid hostId, DateTimeOffset at, CancellationToken ct) =>
        LostAsync(db, r => r.HostId == hostId, at, ct);

    /// <summary>The same for the databases of a database server that does not answer.</summary>
    public static Task<IReadOnlyList<(Guid Id, Guid TenantId, long Version)>> DatabaseServerLostAsync(PortalDbContext db, Guid serverId, DateTimeOffset at, CancellationToken ct) =>
        LostAsync(db, r => r.DatabaseServerId == serverId, at, ct);

    private static async Task<IReadOnlyList<(Guid Id, Guid TenantId, long Version)>> LostAsync(
        PortalDbContext db, System.Linq.Expressions.Expression<Func<Resource, bool>> placedThere, DateTimeOffset at, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await AtomicallyAsync(db, async () =>
        {
            var lost = await db.Resources.Where(placedThere).Where(r => r.ObservedState != null && r.ObservedState != ResourceState.Unknown
                    && r.State != ResourceState.Deleted && r.State != ResourceState.Failed)
                .Select(r => r.Id).ToListAsync(ct);
            await db.Resources.Where(r => lost.Contains(r.Id))
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.ObservedState, ResourceState.Unknown).SetProperty(r => r.ObservedSince, at)
                    .SetProperty(r => r.Version, r => r.Version + 1), ct);
            return await VersionsAsync(db, lost, at, ct);
        }, ct);
    }

    /// <summary>
    /// Runs bulk updates and saves the webhook events they staged in one transaction (unless the caller holds one
    /// already), so a crash between them loses no event: the outbox's interceptor never sees a bulk update. The
    /// caller's other pending changes are saved with them.
    /// </summary>
    private static async Task<T> AtomicallyAsync<T>(PortalDbContext db, Func<Task<T>> work, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            var within = await work();
            await db.SaveChangesAsync(ct);
            return within;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var result = await work();
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// The changed resources' new versions; their webhook events are staged for the SaveChanges of
    /// <see cref="AtomicallyAsync"/> (bulk updates pass the outbox's interceptor by).
    /// </summary>
    private static async Task<IReadOnlyList<(Guid Id, Guid TenantId, long Version)>> VersionsAsync(PortalDbContext db, List<Guid> ids, DateTimeOffset at, CancellationToken ct)
    {
        if (ids.Count == 0)
            return [];
        var changed = await db.Resources.AsNoTracking().Where(r => ids.Contains(r.Id)).ToListAsync(ct);
        Webhooks.WebhookOutbox.StageObserved(db, changed, at);
        return [.. changed.Select(r => (r.Id, r.TenantId, r.Version))];
    }

    /// <summary>
    /// What a screen shows, and what actions are offered for: the host's report, except while the portal
    /// itself drives the state (being created or deleted, gone) or when the report is what the wanted state
    /// means (an expired resource is a stopped one).
    /// </summary>
    public static ResourceState Shown(ResourceState wanted, ResourceState? observed) =>
        observed is not { } seen || wanted is ResourceState.Provisioning or ResourceState.Deleting or ResourceState.Deleted or ResourceState.Failed
            || ExpectedOnHost(wanted) == seen
            ? wanted
            : seen;

    /// <inheritdoc cref="Shown(ResourceState, ResourceState?)"/>
    public static ResourceState Shown(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return Shown(resource.State, resource.ObservedState);
    }

    /// <summary>
    /// The line a row shows when the host's state and the portal's differ outside a running operation:
    /// "Paused outside the portal · 21:23:17"; for a host that does not answer, when it was last seen.
    /// Null when they agree, or while an operation is under way.
    /// </summary>
    public static string? DifferenceNote(ResourceState wanted, ResourceState? observed, DateTimeOffset? since, DateTimeOffset? lastConfirmed, bool operationUnderWay, bool hostAnswers)
    {
        var shown = Shown(wanted, observed);
        if (operationUnderWay || shown == wanted)
            return null;
        if (!hostAnswers && shown == ResourceState.Unknown)
            return $"Host not answering · last seen {Clock(lastConfirmed)}";
        return shown == ResourceState.Unknown
            ? $"Gone from its host · {Clock(since)}"
            : $"{shown} outside the portal · {Clock(since)}";
    }

    private static string Clock(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) ?? "never";

    /// <summary>A delete was asked for (by a member or by the lease's end): the resource is on its way out.</summary>
    public static void BeginDelete(Resource resource) => MoveTo(resource, ResourceState.Deleting);

    /// <summary>
    /// A database's record goes at once (its quota is free): the drop on its server follows, and is retried
    /// until the server answers, so a database whose server is gone never blocks its tenant.
    /// </summary>
    public static void DeleteRecord(Resource resource, DateTimeOffset at)
    {
        MoveTo(resource, ResourceState.Deleted);
        resource.DeletedAt ??= at;
    }

    /// <summary>The lease ended at <paramref name="now"/>: Expired, stopped, and deleted after the grace period.</summary>
    public static void Expire(Resource resource, DateTimeOffset now)
    {
        MoveTo(resource, ResourceState.Expired);
        resource.ExpiredAt = now;
    }

    /// <summary>A lease extension brings an expired resource back stopped: the expiry shut it down, and it stays down until someone starts it.</summary>
    public static void Unexpire(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (resource.State != ResourceState.Expired)
            return;
        MoveTo(resource, ResourceState.Shutoff);
        resource.ExpiredAt = null;
    }

    /// <summary>Its create failed: nothing of it is left on a host.</summary>
    public static void Fail(Resource resource) => MoveTo(resource, ResourceState.Failed);

    /// <summary>Something else about the resource changed (lease, size, drift resolution): live clients reload it.</summary>
    public static void Touch(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        resource.Version++;
    }

    private static void MoveTo(Resource resource, ResourceState state)
    {
        ArgumentNullException.ThrowIfNull(resource);
        resource.State = state;
        resource.Version++;
    }

    /// <summary>cockpit-machines' plain words for the UI.</summary>
    public static string Label(OperationKind action) => action switch
    {
        OperationKind.Start => "Run",
        OperationKind.Shutdown => "Shut down",
        OperationKind.ForceOff => "Force shut down",
        OperationKind.Reboot => "Reboot",
        OperationKind.Suspend => "Pause",
        OperationKind.Resume => "Resume",
        OperationKind.Delete => "Delete",
        OperationKind.Create => "Create",
        OperationKind.Resize => "Resize",
        OperationKind.RotatePassword => "New password",
        OperationKind.Backup => "Back up",
        _ => action.ToString(),
    };
}
