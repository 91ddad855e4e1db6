using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Leases;

/// <summary>What one pass over the leases did.</summary>
public sealed record LeasePass(int Warned, int Expired, int Deleted);

/// <summary>
/// Lease ends: warn the tenant's members <see cref="LeaseOptions.WarningDays"/> ahead, stop and mark
/// the resource Expired when the lease ends (an operation), delete it after the grace period (an
/// operation). Each step is one transaction with its audit entry and notifications; a pass is idempotent.
/// </summary>
public sealed partial class LeaseService(
    IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, LiveUpdates live, IOptions<LeaseOptions> options, ILogger<LeaseService> logger)
{
    private static readonly ResourceState[] Finished = [ResourceState.Deleted, ResourceState.Deleting, ResourceState.Failed];

    public async Task<LeasePass> ProcessAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var warnFrom = now.AddDays(options.Value.WarningDays);
        var deleteBefore = now.AddDays(-options.Value.GraceDays);
        int warned = 0, expired = 0, deleted = 0;

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var toWarn = await db.Resources.Where(r => !Finished.Contains(r.State) && r.State != ResourceState.Expired
                    && r.LeaseWarningSentAt == null && r.LeaseEndsAt <= warnFrom && r.LeaseEndsAt > now)
                .Select(r => r.Id).ToListAsync(ct);
            foreach (var id in toWarn)
                warned += await StepAsync(id, Step.Warn, ct);

            var toExpire = await db.Resources.Where(r => !Finished.Contains(r.State) && r.State != ResourceState.Expired && r.LeaseEndsAt <= now)
                .Select(r => r.Id).ToListAsync(ct);
            foreach (var id in toExpire)
                expired += await StepAsync(id, Step.Expire, ct);

            // Not in the pass that expired it: with no grace period, the members would otherwise never
            // see it Expired (nor get a pass to extend it), and its shutdown and delete would be queued together.
            var toDelete = await db.Resources.Where(r => r.State == ResourceState.Expired && r.ExpiredAt != null && r.ExpiredAt <= deleteBefore
                    && !toExpire.Contains(r.Id))
                .Select(r => r.Id).ToListAsync(ct);
            foreach (var id in toDelete)
                deleted += await StepAsync(id, Step.Delete, ct);
        }

        if (warned + expired + deleted > 0)
            LogPass(warned, expired, deleted);
        return new LeasePass(warned, expired, deleted);
    }

    private enum Step
    {
        Warn,
        Expire,
        Delete,
    }

    private async Task<int> StepAsync(Guid resourceId, Step step, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var resource = await db.Resources.FirstAsync(r => r.Id == resourceId, ct);
        var now = time.GetUtcNow();
        // Re-check inside the transaction: an extension may have landed since the query.
        var due = step switch
        {
            Step.Warn => resource.LeaseWarningSentAt is null && resource.LeaseEndsAt > now && resource.LeaseEndsAt <= now.AddDays(options.Value.WarningDays),
            Step.Expire => resource.State is not ResourceState.Expired && !Finished.Contains(resource.State) && resource.LeaseEndsAt <= now,
            _ => resource.State == ResourceState.Expired && resource.ExpiredAt <= now.AddDays(-options.Value.GraceDays),
        };
        if (!due)
            return 0;

        var kind = resource.Kind == ResourceKind.Vm ? "VM" : "database";
        string text;
        switch (step)
        {
            case Step.Warn:
                resource.LeaseWarningSentAt = now;
                text = $"The lease of {kind} {resource.Name} ends {resource.LeaseEndsAt:yyyy-MM-dd HH:mm} UTC. Extend it to keep it.";
                db.Record(time, Actor.System, AuditActions.ResourceLeaseWarning, $"{kind} {resource.Name}", resource.TenantId, text);
                break;
            case Step.Expire:
                ResourceLifecycle.Expire(resource, now);
                db.Operations.Add(Operation.Queue(resource, OperationKind.Shutdown, Actor.System.UserId, now));
                text = $"The lease of {kind} {resource.Name} ended: it is being stopped and will be deleted after {options.Value.GraceDays} days unless its lease is extended.";
                db.Record(time, Actor.System, AuditActions.ResourceExpired, $"{kind} {resource.Name}", resource.TenantId, text);
                break;
            default:
                ResourceLifecycle.BeginDelete(resource);
                db.Operations.Add(Operation.Queue(resource, OperationKind.Delete, Actor.System.UserId, now));
                text = $"{kind} {resource.Name} is being deleted: its lease ended {options.Value.GraceDays} days ago.";
                db.Record(time, Actor.System, AuditActions.ResourceLeaseDeleted, $"{kind} {resource.Name}", resource.TenantId, text);
                break;
        }

        if (step == Step.Warn)
            ResourceLifecycle.Touch(resource);
        var members = await db.TenantMemberships.Where(m => m.TenantId == resource.TenantId).Select(m => m.UserId).ToListAsync(ct);
        var link = step == Step.Delete ? $"/tenants/{resource.TenantId}" : $"/requests/new?tenant={resource.TenantId}&kind=ExtendLease&resource={resource.Id}";
        var notifications = members.Select(userId => NotificationService.Add(db, time, userId, NotificationKind.LeaseWarning, text, link, resource.TenantId)).ToList();
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        foreach (var notification in notifications)
            live.Publish(new NotificationAdded(notification.UserId, notification.Id));
        return 1;
    }

    [LoggerMessage(LogLevel.Information, "Leases: {Warned} warned, {Expired} expired, {Deleted} deleted")]
    private partial void LogPass(int warned, int expired, int deleted);
}
