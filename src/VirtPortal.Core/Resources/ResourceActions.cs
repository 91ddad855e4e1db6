using VirtPortal.Core.Access;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Resources;

/// <summary>
/// Power and delete actions on a tenant's resources, for those <see cref="Permission.ResourceOperate"/>
/// lets act (members and owners of the tenant, and admins; helpdesk and approvers see but never act). Each action queues an operation (returned at once,
/// like a Proxmox task) that the provisioning worker carries out; progress follows by push.
/// </summary>
public sealed class ResourceActions(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, LiveUpdates live)
{
    [Requires(Permission.ResourceOperate, AccessTargetKind.Resource)]
    public Task<Guid> RequestAsync(Actor actor, Guid resourceId, OperationKind action, string? confirmName = null, CancellationToken ct = default) =>
        RequestAsync(actor, resourceId, action, confirmName, null, ct);

    /// <summary>
    /// Queues <paramref name="action"/>; with <paramref name="expectedVersion"/>, only while the resource is still
    /// at that version (else <see cref="PortalConcurrencyException"/>), checked in the action's own transaction.
    /// </summary>
    [Requires(Permission.ResourceOperate, AccessTargetKind.Resource)]
    public async Task<Guid> RequestAsync(Actor actor, Guid resourceId, OperationKind action, string? confirmName, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await access.RequireAsync(db, actor, Permission.ResourceOperate, AccessTarget.Resource(resourceId), $"{action}", ct);
        var resource = await db.Resources.FirstAsync(r => r.Id == resourceId, ct);
        PortalConcurrencyException.ThrowIfStale(expectedVersion, resource.Version, resource.Name);

        if (!ResourceLifecycle.UserActions.Contains(action))
            throw new PortalValidationException("", $"{action} is not an action you can ask for here.");
        // Offered, and accepted, for the state the host shows: a VM paused outside the portal can be resumed.
        var shown = ResourceLifecycle.Shown(resource);
        if (!ResourceLifecycle.Can(action, resource.Kind, shown))
            throw new PortalValidationException("", $"{resource.Name} is {shown.ToString().ToLowerInvariant()}: it cannot {ResourceLifecycle.Label(action).ToLowerInvariant()} now.");
        if (action == OperationKind.RotatePassword && await db.DatabaseServers.AnyAsync(s => s.Id == resource.DatabaseServerId && s.Engine == Catalog.DatabaseEngineKind.Sqlite, ct))
            throw new PortalValidationException("", $"{resource.Name} is an embedded SQLite database: it has no password; its owner downloads the file.");
        if (action == OperationKind.Delete && !string.Equals(confirmName?.Trim(), resource.Name, StringComparison.Ordinal))
            throw new PortalValidationException("ConfirmName", $"Type {resource.Name} to confirm.");
        if (await db.Operations.AnyAsync(o => o.ResourceId == resourceId && o.Kind == action
                && (o.State == OperationState.Pending || o.State == OperationState.Running), ct))
            throw new PortalValidationException("", $"{ResourceLifecycle.Label(action)} of {resource.Name} is already under way.");

        var now = time.GetUtcNow();
        var operation = Operation.Queue(resource, action, actor.UserId, now);
        db.Operations.Add(operation);
        if (action == OperationKind.Backup)
            operation.BackupId = Databases.DatabaseBackups.Queue(db, resource, actor.UserId, now).Id;
        if (action == OperationKind.Delete && resource.Kind == ResourceKind.Database)
            ResourceLifecycle.DeleteRecord(resource, now);
        else if (action == OperationKind.Delete)
            ResourceLifecycle.BeginDelete(resource);
        else
            ResourceLifecycle.Touch(resource);
        db.Record(time, actor, AuditActions.ResourceAction(action), $"{resource.Kind} {resource.Name}", resource.TenantId, $"operation {operation.Id}");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        return operation.Id;
    }
}
