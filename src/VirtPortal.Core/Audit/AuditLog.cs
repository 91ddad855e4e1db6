using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Audit;

public static class AuditLog
{
    /// <summary>
    /// Adds an audit entry to <paramref name="db"/>'s change set, so that it is saved in the same
    /// transaction as the change it describes.
    /// </summary>
    public static AuditEntry Record(
        this PortalDbContext db, TimeProvider time, Actor actor, string action, string target,
        Guid? tenantId = null, string details = "")
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(actor);
        var entry = new AuditEntry
        {
            At = time.GetUtcNow(),
            ActorId = actor.UserId,
            ActorName = actor.Name,
            Action = action,
            Target = target,
            TenantId = tenantId,
            Details = details,
        };
        db.AuditEntries.Add(entry);
        return entry;
    }
}
