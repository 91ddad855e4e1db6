using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Databases;

/// <summary>What every portal has from its first run: the embedded SQLite server, so SQLite offerings always have a home.</summary>
public static class DatabaseServerRegistration
{
    public const string EmbeddedName = "embedded";

    /// <summary>Registers the embedded SQLite server when the portal has none; true when it did.</summary>
    public static async Task<bool> EnsureEmbeddedAsync(PortalDbContext db, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        if (await db.DatabaseServers.AnyAsync(s => s.Engine == DatabaseEngineKind.Sqlite, ct))
            return false;
        db.DatabaseServers.Add(new DatabaseServer
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            Name = EmbeddedName,
            Engine = DatabaseEngineKind.Sqlite,
            Endpoint = "files in the portal's data directory",
            State = DatabaseServerState.Online,
            MaxDatabases = 1000,
            StorageGiB = 100,
            CreatedAt = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        return true;
    }
}
