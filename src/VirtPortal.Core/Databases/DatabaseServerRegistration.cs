using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Databases;

/// <summary>
/// What every portal has from its first run: the embedded SQLite server, so SQLite offerings always have a
/// home, and the local PostgreSQL server when one answers, as the hosts' first run takes the local libvirt.
/// </summary>
public static partial class DatabaseServerRegistration
{
    public const string EmbeddedName = "embedded";

    public const string LocalPostgresName = "local-postgres";

    /// <summary>How long the first run waits for the local server: start-up must not hang on a server that is not there.</summary>
    public static readonly TimeSpan LocalProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// First run only (no database server registered yet) with <c>Databases:FirstRun</c> "auto": registers the
    /// server <see cref="DatabaseOptions.LocalAdminConnection"/> reaches as <see cref="LocalPostgresName"/> when
    /// it answers within <see cref="LocalProbeTimeout"/> and its role may create databases and roles. Otherwise
    /// it registers nothing and logs why. True when it registered the server.
    /// </summary>
    public static async Task<bool> EnsureLocalPostgresAsync(
        PortalDbContext db, DatabaseServerSecrets secrets, DatabaseOptions options, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        if (!string.Equals(options.FirstRun, "auto", StringComparison.OrdinalIgnoreCase) || await db.DatabaseServers.AnyAsync(ct))
            return false;
        var connection = options.LocalAdminConnection.Trim();
        if (DatabaseServerRules.ConnectionError(connection) is { } problem)
        {
            LogLocalSkipped(logger, $"Databases:LocalAdminConnection is not usable: {problem}");
            return false;
        }

        var endpoint = DatabaseServerSecrets.Describe(connection);
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(connection);
        // A socket directory without the server's socket: nothing listens, and connecting would only say so later.
        if (settings.Host!.StartsWith('/') && !File.Exists(Path.Combine(settings.Host, $".s.PGSQL.{settings.Port}")))
        {
            LogLocalSkipped(logger, $"no PostgreSQL socket in {settings.Host} (port {settings.Port})");
            return false;
        }

        var timeout = options.EngineTimeout < LocalProbeTimeout ? options.EngineTimeout : LocalProbeTimeout;
        PostgresServerFacts facts;
        await using (var engine = DatabaseEngineRegistry.Open(connection, timeout))
        {
            try
            {
                facts = await engine.FactsAsync(ct);
            }
            catch (DatabaseEngineException e)
            {
                LogLocalSkipped(logger, $"{endpoint} did not answer: {e.Message}");
                return false;
            }
        }

        if (!facts.CanProvision)
        {
            LogLocalSkipped(logger, $"{facts.AdminRole} at {endpoint} may not create databases and roles");
            return false;
        }

        var now = time.GetUtcNow();
        var server = new DatabaseServer
        {
            Id = Guid.CreateVersion7(now),
            Name = LocalPostgresName,
            Engine = DatabaseEngineKind.PostgreSql,
            ProtectedAdminConnection = secrets.Protect(connection),
            Endpoint = endpoint,
            State = DatabaseServerState.Online,
            Version = facts.Version,
            LastSeenAt = now,
            CreatedAt = now,
        };
        db.DatabaseServers.Add(server);
        db.Record(time, Actor.System, AuditActions.DatabaseServerRegistered, $"database server {server.Name}", null,
            $"first run: PostgreSQL at {endpoint}, capacity {server.MaxDatabases} databases and {server.StorageGiB} GiB; {facts.Version}");
        await db.SaveChangesAsync(ct);
        LogLocalRegistered(logger, server.Name, endpoint, facts.Version);
        return true;
    }

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

    [LoggerMessage(LogLevel.Information, "First run: registered the local PostgreSQL server as {Name} ({Endpoint}, {Version})")]
    private static partial void LogLocalRegistered(ILogger logger, string name, string endpoint, string version);

    [LoggerMessage(LogLevel.Information, "First run: no local PostgreSQL server registered: {Reason}")]
    private static partial void LogLocalSkipped(ILogger logger, string reason);
}
