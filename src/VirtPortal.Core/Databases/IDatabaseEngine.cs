using VirtPortal.Core.Catalog;

namespace VirtPortal.Core.Databases;

/// <summary>
/// One database server as the portal drives it: PostgreSQL through its admin connection, or the embedded
/// SQLite directory. Every call is idempotent (repeating a call that already took effect changes nothing and
/// succeeds), so the provisioning worker may retry any of them after a crash. Calls that cannot finish within
/// the engine's time limit throw <see cref="DatabaseEngineException"/> with <see cref="DatabaseFailure.Timeout"/>.
/// </summary>
public interface IDatabaseEngine
{
    DatabaseEngineKind Kind { get; }

    /// <summary>False for SQLite: a file has no roles or passwords; its owner downloads it instead.</summary>
    bool HasCredentials { get; }

    /// <summary>
    /// Creates the database and its owner role if either is missing, and sets the role's password (to
    /// <paramref name="password"/>), its rights and the connection limit to those asked for, whatever a
    /// previous, interrupted call left. Nobody else may connect to the database.
    /// </summary>
    Task CreateAsync(DatabaseSpec spec, string? password, CancellationToken ct);

    /// <summary>
    /// <see cref="CreateAsync(DatabaseSpec, string?, CancellationToken)"/>, calling <paramref name="step"/> with
    /// <see cref="DatabaseCreatedStep"/> once the database exists and before its rights are granted (the crash tests' hook).
    /// </summary>
    Task CreateAsync(DatabaseSpec spec, string? password, Func<string, Task> step, CancellationToken ct);

    /// <summary>The step between "database created" and "rights granted".</summary>
    public const string DatabaseCreatedStep = "database-created";

    /// <summary>Drops the database (ending its sessions) and its owner role; nothing to drop is success.</summary>
    Task DropAsync(DatabaseSpec spec, CancellationToken ct);

    /// <summary>Gives the owner role a new password; sessions already open stay open.</summary>
    Task SetPasswordAsync(DatabaseSpec spec, string password, CancellationToken ct);

    /// <summary>Whether the server answers, and whether this database accepts connections. Never throws for an unreachable server.</summary>
    Task<DatabaseStatus> StatusAsync(DatabaseSpec spec, CancellationToken ct);

    /// <summary>The database's size on disk and its open sessions.</summary>
    Task<DatabaseFigures> FiguresAsync(DatabaseSpec spec, CancellationToken ct);

    /// <summary>Writes a backup of the database to <paramref name="file"/> (pg_dump's custom format, or the SQLite file itself).</summary>
    Task BackupAsync(DatabaseSpec spec, string file, CancellationToken ct);

    /// <summary>Loads a backup into the database <paramref name="spec"/> names, which <see cref="CreateAsync"/> made and which is empty.</summary>
    Task RestoreAsync(DatabaseSpec spec, string file, CancellationToken ct);

    /// <summary>The databases on this server that the portal made (their names start with <see cref="DatabaseNames.Prefix"/>).</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken ct);
}

/// <summary>A database and its owner role, by their names on the server (see <see cref="DatabaseNames"/>).</summary>
public sealed record DatabaseSpec(string Database, string Owner, int ConnectionLimit)
{
    public static DatabaseSpec For(string serverName, int connectionLimit) =>
        new(serverName, DatabaseNames.OwnerOf(serverName), connectionLimit);
}

/// <summary>Database health apart from server health, as Trove shows them.</summary>
public sealed record DatabaseStatus(bool ServerReachable, bool DatabaseExists, bool AcceptingConnections, string Detail);

public sealed record DatabaseFigures(long SizeBytes, int ActiveConnections);

public enum DatabaseFailure
{
    /// <summary>The server did not answer or refused the admin connection.</summary>
    Unreachable,

    /// <summary>The call did not finish within the engine's time limit.</summary>
    Timeout,

    /// <summary>The server answered with an error (a bad backup, no room, a name in use by something else).</summary>
    Refused,
}

/// <summary>An engine error, translated once at the engine's boundary; the message is fit to show and never holds a secret.</summary>
public sealed class DatabaseEngineException : Exception
{
    public DatabaseEngineException(DatabaseFailure failure, string message, Exception? inner = null)
        : base(message, inner) => Failure = failure;

    public DatabaseEngineException()
    {
    }

    public DatabaseEngineException(string message)
        : base(message)
    {
    }

    public DatabaseEngineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DatabaseFailure Failure { get; } = DatabaseFailure.Refused;
}
