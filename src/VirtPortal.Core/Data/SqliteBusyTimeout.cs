using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace VirtPortal.Core.Data;

/// <summary>
/// Lets SQLite itself wait for a busy write lock (it retries within a millisecond or two) instead of
/// Microsoft.Data.Sqlite's own retry loop, which sleeps 150 ms per attempt. Without it, every time the
/// reconciler's write met a worker's transaction, the next claim waited 150 ms (measured by the bench).
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    private const string Pragma = "PRAGMA busy_timeout = 30000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
