using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Npgsql;
using VirtPortal.Core.Catalog;

namespace VirtPortal.Core.Databases;

/// <summary>
/// Databases on one PostgreSQL server, through its admin connection (a superuser, or a role with CREATEDB and
/// CREATEROLE that is a member of the roles it makes). Each database belongs to its own role, made
/// NOSUPERUSER NOCREATEDB NOCREATEROLE, and only that role may connect to it: CONNECT is revoked from PUBLIC
/// on it and on the server's own databases, so one tenant's role never reaches another's database.
/// </summary>
public sealed class PostgresDatabaseEngine : IDatabaseEngine, IAsyncDisposable
{
    private readonly NpgsqlDataSource admin;
    private readonly NpgsqlConnectionStringBuilder settings;
    private readonly TimeSpan timeout;
    private readonly string toolDirectory;

    /// <param name="adminConnectionString">The server's admin connection; it never reaches a log or a message.</param>
    /// <param name="timeout">The limit of every call, pg_dump and pg_restore included.</param>
    /// <param name="toolDirectory">Where pg_dump and pg_restore are; by default the newest /usr/lib/postgresql/N/bin, else PATH.</param>
    public PostgresDatabaseEngine(string adminConnectionString, TimeSpan timeout, string? toolDirectory = null)
    {
        settings = new NpgsqlConnectionStringBuilder(adminConnectionString);
        if (string.IsNullOrEmpty(settings.Database))
            settings.Database = "postgres";
        settings.Timeout = Math.Max(1, (int)Math.Ceiling(Math.Min(timeout.TotalSeconds, 60)));
        settings.CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        // Dropping a database needs no pooled sessions open to it; admin calls are rare enough not to need a pool.
        settings.Pooling = false;
        this.timeout = timeout;
        this.toolDirectory = toolDirectory ?? DefaultToolDirectory();
        admin = NpgsqlDataSource.Create(settings.ConnectionString);
    }

    public DatabaseEngineKind Kind => DatabaseEngineKind.PostgreSql;

    public bool HasCredentials => true;

    /// <summary>Host and port as clients reach the server, for connection strings.</summary>
    public (string Host, int Port) Endpoint => (settings.Host ?? "localhost", settings.Port);

    public Task CreateAsync(DatabaseSpec spec, string? password, CancellationToken ct) =>
        CreateAsync(spec, password, static _ => Task.CompletedTask, ct);

    public Task CreateAsync(DatabaseSpec spec, string? password, Func<string, Task> step, CancellationToken ct) => Guard(async token =>
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(password);
        var database = DatabaseNames.Quote(spec.Database);
        var owner = DatabaseNames.Quote(spec.Owner);
        var limit = spec.ConnectionLimit.ToString(CultureInfo.InvariantCulture);
        await using var connection = await admin.OpenConnectionAsync(token);
        // Each step checks what exists, so a call interrupted anywhere is finished by the next one.
        if (!await ExistsAsync(connection, "SELECT 1 FROM pg_roles WHERE rolname = $1", spec.Owner, token))
            await ExecuteAsync(connection, $"CREATE ROLE {owner}", token);
        // INHERIT: since PostgreSQL 15 the owner's rights on the public schema come through pg_database_owner.
        await ExecuteAsync(connection,
            $"ALTER ROLE {owner} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT {limit} PASSWORD {Literal(DatabasePasswords.ScramVerifier(password))}",
            token);
        if (!await ExistsAsync(connection, "SELECT 1 FROM pg_database WHERE datname = $1", spec.Database, token))
        {
            // CREATE DATABASE needs the admin to be able to SET ROLE to the owner unless it is a superuser.
            await ExecuteAsync(connection, $"CREATE DATABASE {database} OWNER {owner} CONNECTION LIMIT {limit}", token);
        }
        else
        {
            await ExecuteAsync(connection, $"ALTER DATABASE {database} OWNER TO {owner}", token);
            await ExecuteAsync(connection, $"ALTER DATABASE {database} CONNECTION LIMIT {limit}", token);
        }

        await step(IDatabaseEngine.DatabaseCreatedStep);

        await ExecuteAsync(connection, $"REVOKE ALL ON DATABASE {database} FROM PUBLIC", token);
        await ExecuteAsync(connection, $"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {owner}", token);
        await RevokeServerDatabasesAsync(connection, token);
    }, ct);

    public Task DropAsync(DatabaseSpec spec, CancellationToken ct) => Guard(async token =>
    {
        ArgumentNullException.ThrowIfNull(spec);
        var database = DatabaseNames.Quote(spec.Database);
        var owner = DatabaseNames.Quote(spec.Owner);
        await using var connection = await admin.OpenConnectionAsync(token);
        await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)", token);
        if (await ExistsAsync(connection, "SELECT 1 FROM pg_roles WHERE rolname = $1", spec.Owner, token))
        {
            // What the role still owns or was granted elsewhere (nothing, unless someone granted it more) goes with it.
            await ExecuteAsync(connection, $"DROP OWNED BY {owner}", token);
            await ExecuteAsync(connection, $"DROP ROLE {owner}", token);
        }
    }, ct);

    public Task SetPasswordAsync(DatabaseSpec spec, string password, CancellationToken ct) => Guard(async token =>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(password);
        await using var connection = await admin.OpenConnectionAsync(token);
        if (!await ExistsAsync(connection, "SELECT 1 FROM pg_roles WHERE rolname = $1", spec.Owner, token))
            throw new DatabaseEngineException(DatabaseFailure.Refused, $"The owner role of {spec.Database} does not exist on the server.");
        await ExecuteAsync(connection, $"ALTER ROLE {DatabaseNames.Quote(spec.Owner)} PASSWORD {Literal(DatabasePasswords.ScramVerifier(password))}", token);
    }, ct);

    public async Task<DatabaseStatus> StatusAsync(DatabaseSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        DatabaseNames.CheckIdentifier(spec.Database);
        try
        {
            return await Guard(async token =>
            {
                await using var connection = await admin.OpenConnectionAsync(token);
                await using var command = new NpgsqlCommand("SELECT datallowconn FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = spec.Database } } };
                if (await command.ExecuteScalarAsync(token) is not bool allowed)
                    return new DatabaseStatus(true, false, false, "The server answers; the database does not exist on it.");
                if (!allowed)
                    return new DatabaseStatus(true, true, false, "The server answers; the database does not allow connections.");
                var inside = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { Database = spec.Database };
                await using var probe = new NpgsqlConnection(inside.ConnectionString);
                await probe.OpenAsync(token);
                await using var ping = new NpgsqlCommand("SELECT 1", probe);
                await ping.ExecuteScalarAsync(token);
                return new DatabaseStatus(true, true, true, "The server answers and the database accepts connections.");
            }, ct);
        }
        catch (DatabaseEngineException e) when (e.Failure is DatabaseFailure.Unreachable or DatabaseFailure.Timeout)
        {
            return new DatabaseStatus(false, false, false, e.Message);
        }
    }

    public Task<DatabaseFigures> FiguresAsync(DatabaseSpec spec, CancellationToken ct) => Guard(async token =>
    {
        ArgumentNullException.ThrowIfNull(spec);
        DatabaseNames.CheckIdentifier(spec.Database);
        await using var connection = await admin.OpenConnectionAsync(token);
        await using var command = new NpgsqlCommand(
            "SELECT pg_database_size(d.oid), (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid)::int FROM pg_database d WHERE d.datname = $1",
            connection) { Parameters = { new() { Value = spec.Database } } };
        await using var reader = await command.ExecuteReaderAsync(token);
        if (!await reader.ReadAsync(token))
            throw new DatabaseEngineException(DatabaseFailure.Refused, $"The database {spec.Database} does not exist on the server.");
        return new DatabaseFigures(reader.GetInt64(0), reader.GetInt32(1));
    }, ct);

    public Task BackupAsync(DatabaseSpec spec, string file, CancellationToken ct) => Guard(async token =>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(file);
        DatabaseNames.CheckIdentifier(spec.Database);
        // Written beside the target and moved into place, so a failed dump never leaves a partial backup.
        var partial = file + ".partial";
        try
        {
            await RunToolAsync("pg_dump", ["--format=custom", "--no-password", "--file", partial], spec.Database, token);
            File.Move(partial, file, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }, ct);

    public Task RestoreAsync(DatabaseSpec spec, string file, CancellationToken ct) => Guard(async token =>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(file);
        DatabaseNames.CheckIdentifier(spec.Database);
        DatabaseNames.CheckIdentifier(spec.Owner);
        // The objects become the new owner's, whoever owned them in the backup; grants to other roles are not restored.
        await RunToolAsync("pg_restore", ["--no-owner", "--no-privileges", "--no-password", "--exit-on-error", "--single-transaction", $"--role={spec.Owner}", "--dbname", spec.Database, file],
            spec.Database, token);
    }, ct);

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken ct) => Guard<IReadOnlyList<string>>(async token =>
    {
        await using var connection = await admin.OpenConnectionAsync(token);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname", connection)
        {
            Parameters = { new() { Value = DatabaseNames.Prefix } },
        };
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(token);
        while (await reader.ReadAsync(token))
            names.Add(reader.GetString(0));
        return names;
    }, ct);

    /// <summary>
    /// What the server says it is (<c>SHOW server_version</c>) and whether the admin role may make the
    /// portal's databases and roles (a superuser, or CREATEDB and CREATEROLE): the connection test.
    /// </summary>
    public Task<PostgresServerFacts> FactsAsync(CancellationToken ct) => Guard(async token =>
    {
        await using var connection = await admin.OpenConnectionAsync(token);
        await using var version = new NpgsqlCommand("SHOW server_version", connection);
        var said = await version.ExecuteScalarAsync(token) as string ?? "";
        await using var rights = new NpgsqlCommand("SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user", connection);
        var canProvision = await rights.ExecuteScalarAsync(token) is true;
        return new PostgresServerFacts("PostgreSQL " + said, settings.Username ?? "", canProvision);
    }, ct);

    public ValueTask DisposeAsync() => admin.DisposeAsync();

    /// <summary>
    /// CONNECT is revoked from PUBLIC on the server's own databases (postgres, template1), which PostgreSQL
    /// grants by default: without it any tenant's role could open a session there and list every database.
    /// </summary>
    private static async Task RevokeServerDatabasesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        foreach (var name in new[] { "postgres", "template1" })
        {
            if (await ExistsAsync(connection, "SELECT 1 FROM pg_database WHERE datname = $1", name, ct))
                await ExecuteAsync(connection, $"REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC", ct);
        }
    }

    private async Task RunToolAsync(string tool, IReadOnlyList<string> arguments, string database, CancellationToken ct)
    {
        var path = Path.Combine(toolDirectory, tool);
        var start = new ProcessStartInfo(File.Exists(path) ? path : tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The admin password travels in the environment, which other users cannot read, never on the command line.
        start.Environment["PGHOST"] = settings.Host;
        start.Environment["PGPORT"] = settings.Port.ToString(CultureInfo.InvariantCulture);
        start.Environment["PGUSER"] = settings.Username;
        start.Environment["PGPASSWORD"] = settings.Password ?? "";
        start.Environment["PGDATABASE"] = database;
        start.Environment["PGCONNECT_TIMEOUT"] = settings.Timeout.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new DatabaseEngineException(DatabaseFailure.Refused, $"{tool} could not be started.");
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await output;
        if (process.ExitCode != 0)
        {
            var message = (await error).Trim();
            throw new DatabaseEngineException(DatabaseFailure.Refused,
                $"{tool} failed (exit code {process.ExitCode}): {(message.Length > 500 ? message[..500] : message)}");
        }
    }

    private async Task<T> Guard<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            return await call(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new DatabaseEngineException(DatabaseFailure.Timeout,
                string.Create(CultureInfo.InvariantCulture, $"The database server did not finish within {timeout.TotalSeconds:0} s."));
        }
        catch (NpgsqlException e) when (e.InnerException is TimeoutException && !ct.IsCancellationRequested)
        {
            throw new DatabaseEngineException(DatabaseFailure.Timeout,
                string.Create(CultureInfo.InvariantCulture, $"The database server did not finish within {timeout.TotalSeconds:0} s."), e);
        }
        catch (PostgresException e)
        {
            // The server's own message names the object and the reason, and holds no password (the portal sends verifiers).
            throw new DatabaseEngineException(e.SqlState is "28P01" or "28000" or "57P03" ? DatabaseFailure.Unreachable : DatabaseFailure.Refused,
                $"The database server refused: {e.MessageText}", e);
        }
        catch (NpgsqlException e) when (e.InnerException is SocketException or IOException || e.IsTransient)
        {
            throw new DatabaseEngineException(DatabaseFailure.Unreachable,
                $"The database server at {settings.Host}:{settings.Port} does not answer.", e);
        }
    }

    private async Task Guard(Func<CancellationToken, Task> call, CancellationToken ct) => await Guard(async token =>
    {
        await call(token);
        return true;
    }, ct);

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string sql, string value, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = value } } };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A string literal for DDL, which takes no parameters (standard_conforming_strings is on since PostgreSQL 9.1).</summary>
    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string DefaultToolDirectory()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
            return "";
        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
            .Where(d => d.Version >= 0 && File.Exists(Path.Combine(d.Dir, "bin", "pg_dump")))
            .OrderByDescending(d => d.Version)
            .Select(d => Path.Combine(d.Dir, "bin"))
            .FirstOrDefault() ?? "";
    }
}

/// <summary>What a connection test found on a PostgreSQL server: its version, and whether <see cref="AdminRole"/> may create databases and roles.</summary>
public sealed record PostgresServerFacts(string Version, string AdminRole, bool CanProvision);
