using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Common;

namespace VirtPortal.Core.Data;

/// <summary>The one place a unique-key violation becomes the form error a user reads.</summary>
public static class UniqueKeys
{
    /// <summary>SQLITE_CONSTRAINT_UNIQUE.</summary>
    private const int SqliteConstraintUnique = 2067;

    /// <summary>
    /// Saves; when another writer took the same unique value between the caller's check and this save,
    /// throws a <see cref="PortalValidationException"/> on <paramref name="field"/> with <paramref name="message"/>.
    /// </summary>
    public static async Task SaveUniqueAsync(this PortalDbContext db, string field, string message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (IsUniqueViolation(e))
        {
            throw new PortalValidationException(field, message);
        }
    }

    public static bool IsUniqueViolation(DbUpdateException exception) =>
        exception?.InnerException is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique };
}
