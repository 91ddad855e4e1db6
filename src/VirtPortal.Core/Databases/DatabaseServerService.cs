using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Databases;

/// <summary>
/// A database server as the admins' page shows it: where it is (never its admin connection), its state and
/// what the portal placed on it against its capacity.
/// </summary>
public sealed record DatabaseServerView(
    Guid Id, string Name, DatabaseEngineKind Engine, string Endpoint, string? ClientHost, int? ClientPort, DatabaseServerState State,
    int MaxDatabases, int StorageGiB, int Databases, long AllocatedGiB, string? Version, DateTimeOffset? LastSeenAt, string? LastError, long SettingsVersion)
{
    /// <summary>The embedded SQLite server: no connection, and never removed (SQLite offerings live there).</summary>
    public bool IsEmbedded => Engine == DatabaseEngineKind.Sqlite;

    /// <summary>The form's starting values for a change; the admin connection stays empty (kept unless replaced).</summary>
    public DatabaseServerInput ToInput() => new(Name, "", ClientHost, ClientPort, MaxDatabases, StorageGiB);
}

/// <summary>What a connection test found: the server's version, or why it cannot serve the portal.</summary>
public sealed record DatabaseServerTest(string? Version, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// The database servers databases are placed on. Admins list, add, change, test, put in maintenance and
/// remove them, like hosts; every change is audited and announced with <see cref="DatabaseServerChanged"/>
/// once committed. The admin connection string is kept only protected (<see cref="DatabaseServerSecrets"/>):
/// views, audit entries and logs carry its <see cref="DatabaseServerSecrets.Describe"/> form.
/// </summary>
public sealed partial class DatabaseServerService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, DatabaseServerSecrets secrets, DatabaseEngineRegistry engines,
    IOptions<DatabaseOptions> options, TimeProvider time, LiveUpdates live, ILogger<DatabaseServerService> logger)
{
    private const int LastErrorMaxLength = 1000;

    [Requires(Permission.DatabaseServersManage)]
    public async Task<IReadOnlyList<DatabaseServerView>> ListAsync(Actor actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal, "view database servers", ct);
        return await ViewsAsync(db, null, ct);
    }

    /// <summary>
    /// Registers a PostgreSQL server after connecting to it as its admin role. A server that does not
    /// answer, or whose role may not create databases and roles, is refused with the server's reason and
    /// nothing is saved: unlike a host, a database server is only useful once the portal can reach it.
    /// </summary>
    [Requires(Permission.DatabaseServersManage)]
    public async Task<DatabaseServerView> AddAsync(Actor actor, DatabaseServerInput input, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal, "add database server", ct);
        input = await ValidateAsync(db, input, null, connectionRequired: true, ct);
        var test = await ProbeAsync(input.AdminConnection, ct);
        if (!test.Succeeded)
            throw new PortalValidationException(nameof(DatabaseServerInput.AdminConnection), $"The server cannot serve the portal: {test.Error}");
        var now = time.GetUtcNow();
        var server = new DatabaseServer
        {
            Id = Guid.CreateVersion7(now),
            Name = input.Name,
            Engine = DatabaseEngineKind.PostgreSql,
            ProtectedAdminConnection = secrets.Protect(input.AdminConnection),
            Endpoint = DatabaseServerSecrets.Describe(input.AdminConnection),
            ClientHost = input.ClientHost,
            ClientPort = input.ClientPort,
            MaxDatabases = input.MaxDatabases,
            StorageGiB = input.StorageGiB,
            CreatedAt = now,
        };
        Apply(server, test);
        db.DatabaseServers.Add(server);
        db.Record(time, actor, AuditActions.DatabaseServerRegistered, $"database server {server.Name}", null, $"{Describe(server)}; {server.Version}");
        await SaveAsync(db, ct);
        LogRegistered(server.Name, server.Endpoint);
        live.Publish(new DatabaseServerChanged(server.Id));
        return (await ViewsAsync(db, server.Id, ct)).Single();
    }

    /// <summary>
    /// Changes a server's name, client host and port and capacity; a new admin connection is tested like an
    /// add and refused when the server does not answer through it. Capacity cannot drop below what the server holds.
    /// </summary>
    [Requires(Permission.DatabaseServersManage)]
    public Task<DatabaseServerView> UpdateAsync(Actor actor, Guid serverId, DatabaseServerInput input, CancellationToken ct = default) =>
        UpdateAsync(actor, serverId, input, expectedVersion: null, ct);

    /// <summary>The same, only while the server's settings are at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.DatabaseServersManage)]
    public async Task<DatabaseServerView> UpdateAsync(Actor actor, Guid serverId, DatabaseServerInput input, long? expectedVersion, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal, "change database server", ct);
        var server = await FindAsync(db, serverId, ct);
        var versioned = Versioned(server);
        SettingsVersions.RequireVersion(server, expectedVersion, versioned);
        input = DatabaseServerRules.Normalize(input);
        if (server.Engine == DatabaseEngineKind.Sqlite && (input.AdminConnection.Length > 0 || input.ClientHost is not null || input.ClientPort is not null))
            throw new PortalValidationException(input.AdminConnection.Length > 0 ? nameof(DatabaseServerInput.AdminConnection) : nameof(DatabaseServerInput.ClientHost),
                $"{server.Name} keeps its databases as files in the portal's data directory: it has no connection or client host to set.");
        input = await ValidateAsync(db, input, serverId, connectionRequired: false, ct);
        var held = await HeldAsync(db, serverId, ct);
        var errors = new Dictionary<string, string[]>();
        if (input.MaxDatabases < held.Count)
            errors[nameof(DatabaseServerInput.MaxDatabases)] = [$"{server.Name} holds {held.Count} database(s): its limit cannot be lower."];
        if (input.StorageGiB < held.GiB)
            errors[nameof(DatabaseServerInput.StorageGiB)] = [string.Create(CultureInfo.InvariantCulture, $"{server.Name} has {held.GiB} GiB allocated: its storage cannot be lower.")];
        if (errors.Count > 0)
            throw new PortalValidationException(errors);

        DatabaseServerTest? test = null;
        if (input.AdminConnection.Length > 0)
        {
            test = await ProbeAsync(input.AdminConnection, ct);
            if (!test.Succeeded)
                throw new PortalValidationException(nameof(DatabaseServerInput.AdminConnection), $"The server cannot serve the portal: {test.Error}");
        }

        var before = Describe(server);
        (server.Name, server.ClientHost, server.ClientPort, server.MaxDatabases, server.StorageGiB) =
            (input.Name, input.ClientHost, input.ClientPort, input.MaxDatabases, input.StorageGiB);
        if (test is not null)
        {
            server.ProtectedAdminConnection = secrets.Protect(input.AdminConnection);
            server.Endpoint = DatabaseServerSecrets.Describe(input.AdminConnection);
            Apply(server, test);
        }

        var after = Describe(server);
        db.Record(time, actor, AuditActions.DatabaseServerUpdated, $"database server {server.Name}", null,
            $"from {before} to {after}{(test is null ? "" : "; new admin connection, answered: " + test.Version)}");
        await SettingsVersions.SaveAsync(db, server, () => SaveAsync(db, ct), versioned, ct);
        if (test is not null)
            await engines.ForgetAsync(server.Id);
        live.Publish(new DatabaseServerChanged(server.Id));
        return (await ViewsAsync(db, server.Id, ct)).Single();
    }

    /// <summary>Tries a connection string before it is saved: what the server says, or why it cannot serve the portal. Saves nothing but the audit entry.</summary>
    [Requires(Permission.DatabaseServersManage)]
    public async Task<DatabaseServerTest> TestDraftAsync(Actor actor, DatabaseServerInput input, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal, "test database server connection", ct);
        input = DatabaseServerRules.Normalize(input);
        if (DatabaseServerRules.ConnectionError(input.AdminConnection) is { } problem)
            throw new PortalValidationException(nameof(DatabaseServerInput.AdminConnection), problem);
        var test = await ProbeAsync(input.AdminConnection, ct);
        var target = input.Name.Length > 0 ? input.Name : "(new)";
        db.Record(time, actor, AuditActions.DatabaseServerTested, $"database server {target}", null,
            $"draft at {DatabaseServerSecrets.Describe(input.AdminConnection)}: {Outcome(test)}");
        await db.SaveChangesAsync(ct);
        return test;
    }

    /// <summary>Connects to a registered server and records what it said: version, state, last seen, last error.</summary>
    [Requires(Permission.DatabaseServersManage)]
    public async Task<DatabaseServerTest> TestAsync(Actor actor, Guid serverId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal, "test database server connection", ct);
        var server = await FindAsync(db, serverId, ct);
        var test = await ProbeAsync(server, ct);
        Apply(server, test);
        db.Record(time, actor, AuditActions.DatabaseServerTested, $"database server {server.Name}", null, Outcome(test));
        await db.SaveChangesAsync(ct);
        live.Publish(new DatabaseServerChanged(server.Id));
        return test;
    }

    /// <summary>
    /// Maintenance: the server keeps its databases and gets no new one (placement takes Online servers
    /// only). Ending it connects again, so the server returns Online or Unreachable.
    /// </summary>
    [Requires(Permission.DatabaseServersManage)]
    public Task SetMaintenanceAsync(Actor actor, Guid serverId, bool maintenance, CancellationToken ct = default) =>
        SetMaintenanceAsync(actor, serverId, maintenance, expectedVersion: null, ct);

    /// <summary>The same, only while the server's settings are at <paramref name="expectedVersion"/> (the API's If-Match) when one is given.</summary>
    [Requires(Permission.DatabaseServersManage)]
    public async Task SetMaintenanceAsync(Actor actor, Guid serverId, bool maintenance, long? expectedVersion, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal,
            maintenance ? "start database server maintenance" : "end database server maintenance", ct);
        var server = await FindAsync(db, serverId, ct);
        SettingsVersions.RequireVersion(server, expectedVersion, Versioned(server));
        if ((server.State == DatabaseServerState.Maintenance) == maintenance)
            return;
        if (maintenance)
        {
            server.State = DatabaseServerState.Maintenance;
        }
        else
        {
            server.State = DatabaseServerState.Unreachable;
            Apply(server, await ProbeAsync(server, ct));
        }

        db.Record(time, actor, maintenance ? AuditActions.DatabaseServerMaintenanceStarted : AuditActions.DatabaseServerMaintenanceEnded,
            $"database server {server.Name}", null, maintenance ? "no new databases are placed on it" : $"back in service: {server.State}");
        await SettingsVersions.SaveAsync(db, server, () => db.SaveChangesAsync(ct), Versioned(server), ct);
        live.Publish(new DatabaseServerChanged(server.Id));
    }

    /// <summary>
    /// Forgets a PostgreSQL server that holds no live database and has no drop waiting for it; the server
    /// itself is not touched. The embedded SQLite server stays.
    /// </summary>
    [Requires(Permission.DatabaseServersManage)]
    public async Task RemoveAsync(Actor actor, Guid serverId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DatabaseServersManage, AccessTarget.Portal, "remove database server", ct);
        var server = await FindAsync(db, serverId, ct);
        if (server.Engine == DatabaseEngineKind.Sqlite)
            throw new PortalValidationException("", $"{server.Name} is the portal's embedded SQLite server, where SQLite databases live: it cannot be removed. Maintenance keeps new databases away from it.");
        var held = await Live(db.Resources.AsNoTracking()).Where(r => r.DatabaseServerId == serverId).OrderBy(r => r.Name).Select(r => r.Name).ToListAsync(ct);
        if (held.Count > 0)
        {
            var names = string.Join(", ", held.Take(3)) + (held.Count > 3 ? ", …" : "");
            throw new PortalValidationException("", $"{server.Name} still holds {held.Count} database(s) ({names}). Delete them first; until then, maintenance keeps new ones away.");
        }

        // A deleted database whose drop waits for the server still exists there: forgetting the server would leave it behind for good.
        var waiting = await db.Operations.AsNoTracking()
            .Where(o => o.Kind == OperationKind.Delete && (o.State == OperationState.Pending || o.State == OperationState.Running))
            .Join(db.Resources.Where(r => r.DatabaseServerId == serverId), o => o.ResourceId, r => r.Id, (o, r) => r.Name)
            .CountAsync(ct);
        if (waiting > 0)
            throw new PortalValidationException("", $"{waiting} deleted database(s) still wait to be dropped on {server.Name}. Remove it once the server has answered and they are gone.");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Resources.Where(r => r.DatabaseServerId == serverId).ExecuteUpdateAsync(s => s.SetProperty(r => r.DatabaseServerId, (Guid?)null), ct);
        db.DatabaseServers.Remove(server);
        db.Record(time, actor, AuditActions.DatabaseServerRemoved, $"database server {server.Name}", null, Describe(server));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        await engines.ForgetAsync(serverId);
        LogRemoved(server.Name);
        live.Publish(new DatabaseServerChanged(serverId));
    }

    private static IQueryable<Resource> Live(IQueryable<Resource> resources) =>
        resources.Where(r => r.Kind == ResourceKind.Database && r.DatabaseServerId != null && r.State != ResourceState.Deleted && r.State != ResourceState.Failed);

    private static async Task<(int Count, long GiB)> HeldAsync(PortalDbContext db, Guid serverId, CancellationToken ct)
    {
        var sizes = await Live(db.Resources.AsNoTracking()).Where(r => r.DatabaseServerId == serverId).Select(r => r.DiskGiB).ToListAsync(ct);
        return (sizes.Count, sizes.Sum(s => (long)s));
    }

    private static async Task<IReadOnlyList<DatabaseServerView>> ViewsAsync(PortalDbContext db, Guid? only, CancellationToken ct)
    {
        var servers = await db.DatabaseServers.AsNoTracking().Where(s => only == null || s.Id == only).ToListAsync(ct);
        var held = (await Live(db.Resources.AsNoTracking()).Select(r => new { ServerId = r.DatabaseServerId!.Value, r.DiskGiB }).ToListAsync(ct))
            .GroupBy(r => r.ServerId)
            .ToDictionary(g => g.Key, g => (Count: g.Count(), GiB: g.Sum(r => (long)r.DiskGiB)));
        return [.. servers.OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).Select(s =>
        {
            var (count, gib) = held.GetValueOrDefault(s.Id);
            return new DatabaseServerView(s.Id, s.Name, s.Engine, s.Endpoint, s.ClientHost, s.ClientPort, s.State, s.MaxDatabases, s.StorageGiB,
                count, gib, s.Version, s.LastSeenAt, s.LastError, s.SettingsVersion);
        })];
    }

    private static async Task<DatabaseServerInput> ValidateAsync(PortalDbContext db, DatabaseServerInput input, Guid? serverId, bool connectionRequired, CancellationToken ct)
    {
        input = DatabaseServerRules.Normalize(input);
        var errors = DatabaseServerRules.Errors(input, connectionRequired);
        // The name column compares case-insensitively (NOCASE), as the unique index does.
        if (!errors.ContainsKey(nameof(DatabaseServerInput.Name)) && await db.DatabaseServers.AnyAsync(s => s.Name == input.Name && s.Id != serverId, ct))
            errors[nameof(DatabaseServerInput.Name)] = [$"A database server named {input.Name} is already registered."];
        if (input.AdminConnection.Length > 0 && !errors.ContainsKey(nameof(DatabaseServerInput.AdminConnection)))
        {
            var endpoint = DatabaseServerSecrets.Describe(input.AdminConnection);
            if (await db.DatabaseServers.Where(s => s.Endpoint == endpoint && s.Id != serverId).Select(s => s.Name).FirstOrDefaultAsync(ct) is { } twin)
                errors[nameof(DatabaseServerInput.AdminConnection)] = [$"Database server {twin} already connects as {endpoint}."];
        }

        return errors.Count > 0 ? throw new PortalValidationException(errors) : input;
    }

    /// <summary>Connects with <paramref name="adminConnection"/> through an engine of its own, disposed after the test.</summary>
    private async Task<DatabaseServerTest> ProbeAsync(string adminConnection, CancellationToken ct)
    {
        await using var engine = DatabaseEngineRegistry.Open(adminConnection, options.Value.EngineTimeout);
        return await ProbeAsync(engine, ct);
    }

    private async Task<DatabaseServerTest> ProbeAsync(DatabaseServer server, CancellationToken ct)
    {
        if (server.Engine == DatabaseEngineKind.Sqlite)
            return ProbeSqlite();
        IDatabaseEngine engine;
        try
        {
            engine = engines.For(server);
        }
        catch (DatabaseEngineException e)
        {
            return new DatabaseServerTest(null, e.Message);
        }

        return engine is PostgresDatabaseEngine postgres ? await ProbeAsync(postgres, ct) : new DatabaseServerTest(null, $"{server.Name} has no PostgreSQL engine.");
    }

    private static async Task<DatabaseServerTest> ProbeAsync(PostgresDatabaseEngine engine, CancellationToken ct)
    {
        try
        {
            var facts = await engine.FactsAsync(ct);
            return facts.CanProvision
                ? new DatabaseServerTest(facts.Version, null)
                : new DatabaseServerTest(facts.Version,
                    $"{facts.AdminRole} may not create databases and roles there: the portal needs a superuser, or a role with CREATEDB and CREATEROLE.");
        }
        catch (DatabaseEngineException e)
        {
            return new DatabaseServerTest(null, e.Message);
        }
    }

    /// <summary>The embedded server answers when its directory can be made and SQLite opens.</summary>
    private DatabaseServerTest ProbeSqlite()
    {
        try
        {
            Directory.CreateDirectory(engines.SqliteDirectory);
            using var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sqlite_version()";
            return new DatabaseServerTest("SQLite " + command.ExecuteScalar(), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SqliteException)
        {
            return new DatabaseServerTest(null, $"The portal cannot use its SQLite directory: {e.Message}");
        }
    }

    /// <summary>Takes what a test found; a server in maintenance stays there whatever it said.</summary>
    private void Apply(DatabaseServer server, DatabaseServerTest test)
    {
        if (test.Version is { } version)
        {
            server.Version = version.Length > 200 ? version[..200] : version;
            server.LastSeenAt = time.GetUtcNow();
        }

        if (test.Succeeded)
        {
            server.LastError = null;
            if (server.State != DatabaseServerState.Maintenance)
                server.State = DatabaseServerState.Online;
        }
        else
        {
            var error = test.Error ?? "The server did not answer.";
            server.LastError = error.Length > LastErrorMaxLength ? error[..LastErrorMaxLength] : error;
            if (server.State != DatabaseServerState.Maintenance)
                server.State = DatabaseServerState.Unreachable;
        }
    }

    /// <summary>Another admin may register the same name between our check and our save.</summary>
    private static Task SaveAsync(PortalDbContext db, CancellationToken ct) =>
        db.SaveUniqueAsync(nameof(DatabaseServerInput.Name), "A database server with that name was registered a moment ago.", ct);

    /// <summary>How a stale change names the server ("Database server pg-1 changed since you read it …").</summary>
    private static string Versioned(DatabaseServer server) => $"Database server {server.Name}";

    private static async Task<DatabaseServer> FindAsync(PortalDbContext db, Guid serverId, CancellationToken ct) =>
        await db.DatabaseServers.FirstOrDefaultAsync(s => s.Id == serverId, ct) ?? throw new PortalNotFoundException("That database server is no longer registered.");

    /// <summary>For the audit: where and how big, never the admin connection.</summary>
    private static string Describe(DatabaseServer server) => string.Create(CultureInfo.InvariantCulture,
        $"{(server.Engine == DatabaseEngineKind.Sqlite ? "SQLite" : "PostgreSQL")} at {server.Endpoint}{(server.ClientHost is null && server.ClientPort is null ? "" : $", clients use {server.ClientHost ?? "the same host"}:{server.ClientPort?.ToString(CultureInfo.InvariantCulture) ?? "the same port"}")}, capacity {server.MaxDatabases} databases and {server.StorageGiB} GiB");

    private static string Outcome(DatabaseServerTest test) => test.Succeeded ? $"answered: {test.Version}" : $"failed: {test.Error}";

    [LoggerMessage(LogLevel.Information, "Registered database server {Name} ({Endpoint})")]
    private partial void LogRegistered(string name, string endpoint);

    [LoggerMessage(LogLevel.Information, "Removed database server {Name}")]
    private partial void LogRemoved(string name);
}
