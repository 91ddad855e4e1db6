using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Common;

/// <summary>
/// A row whose admin-set settings carry a version of their own, apart from what the portal's own loops write to
/// it (a host's state and facts from the reconciler, a database server's from its health check).
/// </summary>
public interface IHasSettingsVersion
{
    Guid Id { get; }

    /// <summary>Moves by one with each change an admin saves; what the API sends as the ETag and takes as If-Match.</summary>
    long SettingsVersion { get; set; }
}

/// <summary>
/// Saves an admin's change of a row whose settings are versioned without a concurrency token: the loops that write
/// the same row with tracked saves (state, last seen) must not fail because an admin saved meanwhile. The version
/// moves in the save's own transaction, and only from the one the change was made against, so of two changes read
/// at the same version one is saved and the other is refused as stale.
/// </summary>
public static class SettingsVersions
{
    /// <summary>Refuses a change asked against another version than <paramref name="row"/> was read at (an If-Match).</summary>
    public static void RequireVersion(IHasSettingsVersion row, long? expectedVersion, string what)
    {
        ArgumentNullException.ThrowIfNull(row);
        PortalConcurrencyException.ThrowIfStale(expectedVersion, row.SettingsVersion, what);
    }

    /// <summary>
    /// Runs <paramref name="save"/> in a transaction that first moves <paramref name="row"/>'s version on from the one
    /// it was read at; when another change moved it first, nothing is saved and the change is refused as stale.
    /// </summary>
    public static async Task SaveAsync<T>(PortalDbContext db, T row, Func<Task> save, string what, CancellationToken ct)
        where T : class, IHasSettingsVersion
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(save);
        var read = (long)db.Entry(row).Property(nameof(IHasSettingsVersion.SettingsVersion)).OriginalValue!;
        var id = row.Id;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var moved = await db.Set<T>().Where(r => EF.Property<Guid>(r, nameof(IHasSettingsVersion.Id)) == id && EF.Property<long>(r, nameof(IHasSettingsVersion.SettingsVersion)) == read)
            .ExecuteUpdateAsync(s => s.SetProperty(r => EF.Property<long>(r, nameof(IHasSettingsVersion.SettingsVersion)), read + 1), ct);
        if (moved == 0)
            throw new PortalConcurrencyException($"{what} changed since you read it. Read it again.");
        row.SettingsVersion = read + 1;
        await save();
        await tx.CommitAsync(ct);
    }
}
