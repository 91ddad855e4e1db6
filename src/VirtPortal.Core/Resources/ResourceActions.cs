using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Resources;

/// <summary>
/// Power and delete actions on a tenant's resources: members and owners of the tenant and admins may
/// act; helpdesk and approvers see but never act. Each action queues an operation (returned at once,
/// like a Proxmox task) that the provisioning worker carries out; progress follows by push.
/// </summary>
public sealed class ResourceActions(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, LiveUpdates live)
{
    public async Task<Guid> RequestAsync(Actor actor, Guid resourceId, OperationKind action, string? confirmName = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var resource = await db.Resources.FirstOrDefaultAsync(r => r.Id == resourceId, ct);
        var membership = resource is null ? null : await db.TenantMemberships
            .Where(m => m.TenantId == resource.TenantId && m.UserId == actor.UserId).Select(m => (TenantRole?)m.Role).FirstOrDefaultAsync(ct);
        var archived = resource is not null && await db.Tenants.AnyAsync(t => t.Id == resource.TenantId && t.ArchivedAt != null, ct);
        if (resource is null || !(actor.IsAdmin || (membership is not null && !archived)))
        {
            db.Record(time, actor, AuditActions.AccessDenied, $"resource {resourceId}", resource?.TenantId, $"{action}");
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            throw new PortalAccessDeniedException("You cannot act on that resource.");
        }

        if (!ResourceLifecycle.UserActions.Contains(action))
            throw new PortalValidationException("", $"{action} is not an action you can ask for here.");
        if (!ResourceLifecycle.Can(action, resource.Kind, resource.State))
            throw new PortalValidationException("", $"{resource.Name} is {resource.State.ToString().ToLowerInvariant()}: it cannot {ResourceLifecycle.Label(action).ToLowerInvariant()} now.");
        if (action == OperationKind.Delete && !string.Equals(confirmName?.Trim(), resource.Name, StringComparison.Ordinal))
            throw new PortalValidationException("ConfirmName", $"Type {resource.Name} to confirm.");
        if (await db.Operations.AnyAsync(o => o.ResourceId == resourceId && o.Kind == action
                && (o.State == OperationState.Pending || o.State == OperationState.Running), ct))
            throw new PortalValidationException("", $"{ResourceLifecycle.Label(action)} of {resource.Name} is already under way.");

        var now = time.GetUtcNow();
        var operation = Operation.Queue(resource, action, actor.UserId, now);
        db.Operations.Add(operation);
        if (action == OperationKind.Delete)
            resource.State = ResourceState.Deleting;
        resource.Version++;
        db.Record(time, actor, AuditActions.ResourceAction(action), $"{resource.Kind} {resource.Name}", resource.TenantId, $"operation {operation.Id}");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        return operation.Id;
    }
}
