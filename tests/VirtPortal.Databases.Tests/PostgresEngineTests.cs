using VirtPortal.Core.Databases;

namespace VirtPortal.Databases.Tests;

/// <summary>The PostgreSQL engine against a real server, with psql as the client that checks what it did.</summary>
public sealed class PostgresEngineTests(PostgresServer server)
{
    private static DatabaseSpec NewSpec(string name, int connectionLimit = 5) => DatabaseSpec.For(DatabaseNames.ServerName(name, Guid.NewGuid()), connectionLimit);

    [Fact]
    public async Task A_database_goes_through_create_connect_rotate_backup_restore_and_drop_as_psql_sees_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        var spec = NewSpec("orders");
        var first = DatabasePasswords.New();

        await engine.CreateAsync(spec, first, ct);
        var created = await server.PsqlAsync(spec.Owner, first, spec.Database, "CREATE TABLE items(id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'kept'); SELECT name FROM items");
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Equal("kept", created.Output);
        var figures = await engine.FiguresAsync(spec, ct);
        Assert.True(figures.SizeBytes > 1_000_000, $"size {figures.SizeBytes}");

        var second = DatabasePasswords.New();
        await engine.SetPasswordAsync(spec, second, ct);
        var old = await server.PsqlAsync(spec.Owner, first, spec.Database, "SELECT 1");
        Assert.NotEqual(0, old.ExitCode);
        Assert.Contains("password authentication failed", old.Error, StringComparison.Ordinal);
        Assert.Equal("1", (await server.PsqlAsync(spec.Owner, second, spec.Database, "SELECT 1")).Output);

        var backup = Path.Combine(Directory.CreateTempSubdirectory("virtportal-pg-backup-").FullName, "orders.dump");
        await engine.BackupAsync(spec, backup, ct);
        Assert.Equal("PGDMP"u8.ToArray(), (await File.ReadAllBytesAsync(backup, ct))[..5]);
        var copy = NewSpec("orders_copy");
        var copyPassword = DatabasePasswords.New();
        await engine.CreateAsync(copy, copyPassword, ct);
        await engine.RestoreAsync(copy, backup, ct);
        var restored = await server.PsqlAsync(copy.Owner, copyPassword, copy.Database, "SELECT name FROM items WHERE id = 1; INSERT INTO items VALUES (2, 'mine')");
        Assert.True(restored.ExitCode == 0, restored.Error);
        Assert.StartsWith("kept", restored.Output, StringComparison.Ordinal);
        Assert.Equal(copy.Owner, await server.AdminSqlAsync("SELECT tableowner FROM pg_tables WHERE tablename = 'items'", copy.Database));

        await engine.DropAsync(spec, ct);
        await engine.DropAsync(copy, ct);
        foreach (var gone in new[] { spec, copy })
        {
            Assert.Equal("0", await server.AdminSqlAsync($"SELECT count(*) FROM pg_database WHERE datname = '{gone.Database}'"));
            Assert.Equal("0", await server.AdminSqlAsync($"SELECT count(*) FROM pg_roles WHERE rolname = '{gone.Owner}'"));
        }

        Directory.Delete(Path.GetDirectoryName(backup)!, recursive: true);
    }

    [Fact]
    public async Task One_tenants_role_cannot_connect_to_another_tenants_database_or_to_the_servers_own()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        var a = NewSpec("alpha");
        var b = NewSpec("beta");
        var passwordA = DatabasePasswords.New();
        await engine.CreateAsync(a, passwordA, ct);
        await engine.CreateAsync(b, DatabasePasswords.New(), ct);

        Assert.Equal("1", (await server.PsqlAsync(a.Owner, passwordA, a.Database, "SELECT 1")).Output);
        foreach (var elsewhere in new[] { b.Database, "postgres", "template1" })
        {
            var refused = await server.PsqlAsync(a.Owner, passwordA, elsewhere, "SELECT 1");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("permission denied for database", refused.Error, StringComparison.Ordinal);
        }

        await engine.DropAsync(a, ct);
        await engine.DropAsync(b, ct);
    }

    [Fact]
    public async Task The_owner_role_is_unprivileged_and_the_connection_limit_is_the_offerings()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        var spec = NewSpec("limited", connectionLimit: 3);
        await engine.CreateAsync(spec, DatabasePasswords.New(), ct);

        Assert.Equal("f|f|f|f|3", await server.AdminSqlAsync($"SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolconnlimit FROM pg_roles WHERE rolname = '{spec.Owner}'"));
        Assert.Equal($"3|{spec.Owner}", await server.AdminSqlAsync($"SELECT d.datconnlimit, r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = '{spec.Database}'"));
        await engine.DropAsync(spec, ct);
    }

    [Fact]
    public async Task Create_finishes_what_an_interrupted_create_left_and_leaves_no_orphan_role()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        // Interrupted after the database was made, before its owner was set and PUBLIC's rights revoked.
        var half = NewSpec("half");
        await server.AdminSqlAsync($"CREATE ROLE \"{half.Owner}\"");
        await server.AdminSqlAsync($"CREATE DATABASE \"{half.Database}\"");
        var stranger = NewSpec("stranger");
        var strangerPassword = DatabasePasswords.New();
        await engine.CreateAsync(stranger, strangerPassword, ct);

        var password = DatabasePasswords.New();
        await engine.CreateAsync(half, password, ct);
        await engine.CreateAsync(half, password, ct);

        Assert.Equal("1", (await server.PsqlAsync(half.Owner, password, half.Database, "SELECT 1")).Output);
        Assert.Equal(half.Owner, await server.AdminSqlAsync($"SELECT r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = '{half.Database}'"));
        Assert.NotEqual(0, (await server.PsqlAsync(stranger.Owner, strangerPassword, half.Database, "SELECT 1")).ExitCode);

        await engine.DropAsync(half, ct);
        await engine.DropAsync(half, ct);
        await engine.DropAsync(stranger, ct);
        Assert.Equal("0", await server.AdminSqlAsync($"SELECT count(*) FROM pg_roles WHERE rolname IN ('{half.Owner}', '{stranger.Owner}')"));
        Assert.DoesNotContain(half.Database, await engine.ListAsync(ct));
    }

    [Fact]
    public async Task The_password_never_reaches_the_servers_statement_log()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        var spec = NewSpec("secretive");
        var password = DatabasePasswords.New();
        var rotated = DatabasePasswords.New();
        await engine.CreateAsync(spec, password, ct);
        await engine.SetPasswordAsync(spec, rotated, ct);

        Assert.Equal("1", (await server.PsqlAsync(spec.Owner, rotated, spec.Database, "SELECT 1")).Output);
        string log;
        await using (var stream = new FileStream(server.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
            log = await reader.ReadToEndAsync(ct);
        Assert.Contains($"ALTER ROLE \"{spec.Owner}\"", log, StringComparison.Ordinal);
        Assert.DoesNotContain(password, log, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated, log, StringComparison.Ordinal);
        await engine.DropAsync(spec, ct);
    }

    [Fact]
    public async Task Status_tells_the_database_from_the_server()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        var spec = NewSpec("healthy");
        await engine.CreateAsync(spec, DatabasePasswords.New(), ct);
        Assert.Equal((true, true, true), Triple(await engine.StatusAsync(spec, ct)));

        await server.AdminSqlAsync($"ALTER DATABASE \"{spec.Database}\" WITH ALLOW_CONNECTIONS false");
        Assert.Equal((true, true, false), Triple(await engine.StatusAsync(spec, ct)));
        await engine.DropAsync(spec, ct);
        Assert.Equal((true, false, false), Triple(await engine.StatusAsync(spec, ct)));

        // A server that is not there: status says so, and calls fail with the reason instead of hanging.
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using var gone = new PostgresDatabaseEngine($"Host=127.0.0.1;Port={port};Username=postgres;Password=x", TimeSpan.FromSeconds(5));
        var status = await gone.StatusAsync(spec, ct);
        Assert.False(status.ServerReachable);
        var failure = await Assert.ThrowsAsync<DatabaseEngineException>(() => gone.CreateAsync(NewSpec("nowhere"), DatabasePasswords.New(), ct));
        Assert.Equal(DatabaseFailure.Unreachable, failure.Failure);
        Assert.DoesNotContain("Password=x", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_that_is_not_one_is_refused_with_the_tools_reason()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = server.NewEngine();
        var spec = NewSpec("target");
        await engine.CreateAsync(spec, DatabasePasswords.New(), ct);
        var junk = Path.GetTempFileName();
        await File.WriteAllTextAsync(junk, "not a dump", ct);

        var refused = await Assert.ThrowsAsync<DatabaseEngineException>(() => engine.RestoreAsync(spec, junk, ct));
        Assert.Contains("pg_restore failed", refused.Message, StringComparison.Ordinal);
        File.Delete(junk);
        await engine.DropAsync(spec, ct);
    }

    private static (bool, bool, bool) Triple(DatabaseStatus status) => (status.ServerReachable, status.DatabaseExists, status.AcceptingConnections);
}
