using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Databases;

/// <summary>Removes backups older than <see cref="DatabaseOptions.BackupRetentionDays"/>: the row says Deleted, the file goes, the tenant's storage is free.</summary>
public sealed class DatabaseBackupRetention(IDbContextFactory<PortalDbContext> dbFactory, DatabaseEngineRegistry engines, IOptions<DatabaseOptions> options, TimeProvider time)
{
    private static readonly Actor Retention = new("retention", "retention", new HashSet<string>());

    /// <summary>How many backups it removed.</summary>
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        var cutoff = time.GetUtcNow().AddDays(-options.Value.BackupRetentionDays);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var expired = await db.DatabaseBackups.Where(b => (b.State == DatabaseBackupState.Ready || b.State == DatabaseBackupState.Failed) && b.CreatedAt < cutoff).ToListAsync(ct);
        foreach (var backup in expired)
        {
            backup.State = DatabaseBackupState.Deleted;
            db.Record(time, Retention, AuditActions.DatabaseBackupExpired, $"backup {backup.Id}", backup.TenantId,
                $"older than {options.Value.BackupRetentionDays} days (Databases:BackupRetentionDays)");
        }

        await db.SaveChangesAsync(ct);
        // After the rows: a file removed under a row that still said Ready would be a backup that cannot be downloaded.
        foreach (var backup in expired)
            File.Delete(engines.BackupFile(backup.Id));
        return expired.Count;
    }
}
