using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Databases;

/// <summary>The backup rows the portal keeps beside the files the engines write.</summary>
public static class DatabaseBackups
{
    /// <summary>A backup of <paramref name="resource"/>, pending until its operation writes it.</summary>
    public static DatabaseBackup Queue(PortalDbContext db, Resource resource, string requestedBy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(resource);
        var backup = new DatabaseBackup
        {
            Id = Guid.CreateVersion7(now),
            ResourceId = resource.Id,
            TenantId = resource.TenantId,
            State = DatabaseBackupState.Pending,
            CreatedAt = now,
            RequestedBy = requestedBy,
            Engine = DatabaseEngineKind.PostgreSql,
        };
        db.DatabaseBackups.Add(backup);
        return backup;
    }

    /// <summary>Storage the backups hold, in whole GiB rounded up, as quotas count it.</summary>
    public static int GiB(long bytes) => (int)((bytes + (1L << 30) - 1) >> 30);
}
