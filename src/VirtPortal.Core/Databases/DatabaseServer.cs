using VirtPortal.Core.Catalog;

namespace VirtPortal.Core.Databases;

public enum DatabaseServerState
{
    Online = 0,

    /// <summary>The last contact failed; its databases show Unknown until it answers again.</summary>
    Unreachable = 1,

    /// <summary>Set by an admin: keeps what it has, gets no new database.</summary>
    Maintenance = 2,
}

/// <summary>
/// A server databases are placed on: a PostgreSQL server reached through its admin connection, or the
/// portal's embedded SQLite directory (one per portal, no connection).
/// </summary>
public sealed class DatabaseServer : Common.IHasSettingsVersion
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public DatabaseEngineKind Engine { get; set; }

    /// <summary>The admin connection string, protected by <see cref="DatabaseServerSecrets"/>; null for SQLite.</summary>
    public string? ProtectedAdminConnection { get; set; }

    /// <summary>"postgres@db1:5432": who and where, for pages and logs (never the password).</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>Host name clients use in connection strings, when it differs from the admin connection's (a socket path, a private name).</summary>
    public string? ClientHost { get; set; }

    public int? ClientPort { get; set; }

    public DatabaseServerState State { get; set; }

    /// <summary>How many of the portal's databases it may hold.</summary>
    public int MaxDatabases { get; set; } = 100;

    /// <summary>Storage the portal may allocate on it, GiB (the sum of its databases' offerings).</summary>
    public int StorageGiB { get; set; } = 100;

    /// <summary>What the server says it is ("PostgreSQL 15.14", "SQLite 3.46.1"), from the last test.</summary>
    public string? Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSeenAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>The version of what admins set (name, connection, capacity, maintenance); the health check's writes leave it.</summary>
    public long SettingsVersion { get; set; } = 1;
}

/// <summary>
/// A database owner's password between its issue and the owner's one look at it: protected at rest (Data
/// Protection), and deleted in the transaction that shows it, so nobody sees it twice.
/// </summary>
public sealed class DatabaseCredential
{
    public Guid ResourceId { get; set; }

    public required string ProtectedPassword { get; set; }

    public DateTimeOffset IssuedAt { get; set; }
}

public enum DatabaseBackupState
{
    /// <summary>Queued or being written.</summary>
    Pending = 0,

    Ready = 1,

    Failed = 2,

    /// <summary>Removed by retention or by its owner; the file is gone.</summary>
    Deleted = 3,
}

/// <summary>One backup of a database: pg_dump's custom format for PostgreSQL, the file itself for SQLite.</summary>
public sealed class DatabaseBackup
{
    public Guid Id { get; set; }

    public Guid ResourceId { get; set; }

    public Guid TenantId { get; set; }

    public DatabaseBackupState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public long SizeBytes { get; set; }

    public DatabaseEngineKind Engine { get; set; }

    /// <summary>Who asked for it (a user id, or "retention").</summary>
    public string RequestedBy { get; set; } = "";

    public string? Error { get; set; }
}
