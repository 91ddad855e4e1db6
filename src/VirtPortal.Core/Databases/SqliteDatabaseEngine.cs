using System.Globalization;
using Microsoft.Data.Sqlite;
using VirtPortal.Core.Catalog;

namespace VirtPortal.Core.Databases;

/// <summary>
/// The embedded default: one SQLite file per database in a directory under the portal's data directory.
/// A file has no server, roles or passwords; its owner downloads it and may upload a replacement, which
/// must pass <c>PRAGMA integrity_check</c> before it is swapped in.
/// </summary>
public sealed class SqliteDatabaseEngine(string directory, TimeSpan timeout) : IDatabaseEngine
{
    private const string Extension = ".sqlite";

    public DatabaseEngineKind Kind => DatabaseEngineKind.Sqlite;

    public bool HasCredentials => false;

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>The file of a database.</summary>
    public string FileOf(DatabaseSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Path.Combine(Directory, DatabaseNames.CheckIdentifier(spec.Database) + Extension);
    }

    public Task CreateAsync(DatabaseSpec spec, string? password, CancellationToken ct) =>
        CreateAsync(spec, password, static _ => Task.CompletedTask, ct);

    public async Task CreateAsync(DatabaseSpec spec, string? password, Func<string, Task> step, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(step);
        var file = FileOf(spec);
        if (File.Exists(file))
            return;
        System.IO.Directory.CreateDirectory(Directory);
        // Made beside its place and moved in, so a crash never leaves a file that looks made but is not.
        var partial = file + ".partial";
        File.Delete(partial);
        await using (var connection = Open(partial, SqliteOpenMode.ReadWriteCreate))
        {
            await connection.OpenAsync(ct);
            // SQLite writes a new file only when something is written: the application id ("VPDB") is that write.
            await ExecuteAsync(connection, "PRAGMA application_id = 1448100930", ct);
        }

        // A file has no rights to grant: the step comes before it takes its place.
        await step(IDatabaseEngine.DatabaseCreatedStep);
        File.Move(partial, file, overwrite: false);
    }

    public Task DropAsync(DatabaseSpec spec, CancellationToken ct)
    {
        var file = FileOf(spec);
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal", ".partial" })
            File.Delete(file + suffix);
        return Task.CompletedTask;
    }

    public Task SetPasswordAsync(DatabaseSpec spec, string password, CancellationToken ct) =>
        throw new DatabaseEngineException(DatabaseFailure.Refused, "An embedded SQLite database has no password: its owner downloads the file.");

    public async Task<DatabaseStatus> StatusAsync(DatabaseSpec spec, CancellationToken ct)
    {
        var file = FileOf(spec);
        if (!System.IO.Directory.Exists(Directory))
            return new DatabaseStatus(false, false, false, "The portal's database directory does not exist.");
        if (!File.Exists(file))
            return new DatabaseStatus(true, false, false, "The database file does not exist.");
        try
        {
            await using var connection = Open(file, SqliteOpenMode.ReadOnly);
            await connection.OpenAsync(ct);
            await using var command = new SqliteCommand("SELECT count(*) FROM sqlite_schema", connection);
            await command.ExecuteScalarAsync(ct);
            return new DatabaseStatus(true, true, true, "The database file opens.");
        }
        catch (SqliteException e)
        {
            return new DatabaseStatus(true, true, false, $"The database file does not open: {e.Message}");
        }
    }

    public Task<DatabaseFigures> FiguresAsync(DatabaseSpec spec, CancellationToken ct)
    {
        var file = new FileInfo(FileOf(spec));
        if (!file.Exists)
            throw new DatabaseEngineException(DatabaseFailure.Refused, $"The database {spec.Database} does not exist.");
        var wal = new FileInfo(file.FullName + "-wal");
        // A file has no sessions that the portal could count: its users open their own copy.
        return Task.FromResult(new DatabaseFigures(file.Length + (wal.Exists ? wal.Length : 0), 0));
    }

    public async Task BackupAsync(DatabaseSpec spec, string file, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        var source = FileOf(spec);
        if (!File.Exists(source))
            throw new DatabaseEngineException(DatabaseFailure.Refused, $"The database {spec.Database} does not exist.");
        var partial = file + ".partial";
        File.Delete(partial);
        try
        {
            await using (var connection = Open(source, SqliteOpenMode.ReadOnly))
            {
                await connection.OpenAsync(ct);
                // VACUUM INTO writes a consistent copy while others may be writing.
                await using var command = new SqliteCommand("VACUUM INTO $file", connection) { CommandTimeout = Seconds };
                command.Parameters.AddWithValue("$file", partial);
                await command.ExecuteNonQueryAsync(ct);
            }

            File.Move(partial, file, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    public async Task RestoreAsync(DatabaseSpec spec, string file, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        var target = FileOf(spec);
        var staged = target + ".partial";
        File.Copy(file, staged, overwrite: true);
        try
        {
            await CheckAsync(staged, ct);
            File.Move(staged, target, overwrite: true);
            File.Delete(target + "-wal");
            File.Delete(target + "-shm");
        }
        finally
        {
            File.Delete(staged);
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken ct)
    {
        IReadOnlyList<string> names = System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, DatabaseNames.Prefix + "*" + Extension)
                .Select(f => Path.GetFileNameWithoutExtension(f))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return Task.FromResult(names);
    }

    /// <summary>Refuses a file that is not a whole, sound SQLite database.</summary>
    private async Task CheckAsync(string file, CancellationToken ct)
    {
        var header = new byte[16];
        await using (var stream = File.OpenRead(file))
        {
            if (await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, ct) < header.Length
                || !header.AsSpan().SequenceEqual("SQLite format 3\0"u8))
                throw new DatabaseEngineException(DatabaseFailure.Refused, "The file is not an SQLite database.");
        }

        try
        {
            await using var connection = Open(file, SqliteOpenMode.ReadOnly);
            await connection.OpenAsync(ct);
            await using var command = new SqliteCommand("PRAGMA integrity_check", connection) { CommandTimeout = Seconds };
            var problems = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                problems.Add(reader.GetString(0));
            if (problems is not ["ok"])
                throw new DatabaseEngineException(DatabaseFailure.Refused, $"The file fails SQLite's integrity check: {string.Join("; ", problems.Take(3))}");
        }
        catch (SqliteException e)
        {
            throw new DatabaseEngineException(DatabaseFailure.Refused, $"The file does not open as an SQLite database: {e.Message}", e);
        }
    }

    private int Seconds => Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));

    private SqliteConnection Open(string file, SqliteOpenMode mode) =>
        // No pooling: a pooled connection would keep the file open after a drop or a restore.
        new(new SqliteConnectionStringBuilder { DataSource = file, Mode = mode, Pooling = false, DefaultTimeout = Seconds }.ConnectionString);

    private async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new SqliteCommand(sql, connection) { CommandTimeout = Seconds };
        await command.ExecuteNonQueryAsync(ct);
    }
}
