using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Catalog;

namespace VirtPortal.Core.Databases;

/// <summary>
/// The engine of each registered database server, opened from its protected admin connection and kept
/// while that connection is unchanged (a changed one closes the old engine).
/// </summary>
public sealed class DatabaseEngineRegistry(DatabaseServerSecrets secrets, IOptions<DatabaseOptions> options) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, (string Protected, IDatabaseEngine Engine)> engines = new();

    /// <summary>The engine of <paramref name="server"/>; throws <see cref="DatabaseEngineException"/> when its connection cannot be read.</summary>
    public IDatabaseEngine For(DatabaseServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var timeout = options.Value.EngineTimeout;
        if (server.Engine == DatabaseEngineKind.Sqlite)
            return new SqliteDatabaseEngine(SqliteDirectory, timeout);
        var key = server.ProtectedAdminConnection ?? throw new DatabaseEngineException(DatabaseFailure.Unreachable, $"{server.Name} has no admin connection.");
        if (engines.TryGetValue(server.Id, out var known) && known.Protected == key)
            return known.Engine;
        var engine = Open(secrets.Unprotect(key), timeout);
        if (engines.TryGetValue(server.Id, out var old))
            _ = (old.Engine as IAsyncDisposable)?.DisposeAsync().AsTask();
        engines[server.Id] = (key, engine);
        return engine;
    }

    /// <summary>An engine for a connection string not registered yet (the add form's test).</summary>
    public static PostgresDatabaseEngine Open(string adminConnectionString, TimeSpan timeout) => new(adminConnectionString, timeout);

    /// <summary>Drops the cached engine of a server that was removed or changed.</summary>
    public async Task ForgetAsync(Guid serverId)
    {
        if (engines.TryRemove(serverId, out var old) && old.Engine is IAsyncDisposable disposable)
            await disposable.DisposeAsync();
    }

    public string SqliteDirectory => options.Value.SqliteDirectory.Length > 0 ? options.Value.SqliteDirectory : Path.Combine("data", "databases");

    public string BackupDirectory => options.Value.BackupDirectory.Length > 0 ? options.Value.BackupDirectory : Path.Combine("data", "backups");

    /// <summary>The file a backup is written to; its name is the backup's id only.</summary>
    public string BackupFile(Guid backupId)
    {
        Directory.CreateDirectory(BackupDirectory);
        return Path.Combine(Path.GetFullPath(BackupDirectory), backupId.ToString("N") + ".backup");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, (_, engine)) in engines)
            if (engine is IAsyncDisposable disposable)
                await disposable.DisposeAsync();
        engines.Clear();
    }
}
