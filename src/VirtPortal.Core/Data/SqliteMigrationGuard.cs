using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace VirtPortal.Core.Data;

/// <summary>
/// Migrates a SQLite database so that a process killed mid-migration cannot block every later start.
/// EF Core's lock on SQLite is a row in <c>__EFMigrationsLock</c> that only its holder deletes, so a
/// portal SIGKILLed while migrating left it behind and the next start waited forever. Migrating
/// processes first take an exclusive OS lock on a file beside the database; the kernel drops it when
/// its holder dies, so whoever holds it knows any lock row left in the database is stale and removes it.
/// </summary>
public static class SqliteMigrationGuard
{
    public static async Task MigrateAsync(PortalDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var source = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        if (!db.Database.IsSqlite() || string.IsNullOrEmpty(source) || source == ":memory:")
        {
            await db.Database.MigrateAsync(ct);
            return;
        }

        await using var guard = await AcquireAsync(source + ".migrate-lock", ct);
        var lockTables = await db.Database
            .SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsLock'")
            .SingleAsync(ct);
        if (lockTables > 0)
            await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsLock\";", ct);
        await db.Database.MigrateAsync(ct);
    }

    private static async Task<FileStream> AcquireAsync(string path, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive flock on Linux, released by the kernel with the process.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct); // another live process migrates: wait for it
            }
        }
    }
}
