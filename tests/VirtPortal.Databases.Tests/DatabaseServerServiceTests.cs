using System.Globalization;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Live;
using VirtPortal.Core.Tests;
using VirtPortal.Core.Users;

namespace VirtPortal.Databases.Tests;

/// <summary>The admins' database server operations against the test run's real PostgreSQL server.</summary>
public sealed class DatabaseServerServiceTests(PostgresServer server) : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private Actor admin = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DatabaseServerService Servers => host.Services.GetRequiredService<DatabaseServerService>();

    private string SuperPassword => new NpgsqlConnectionStringBuilder(server.AdminConnectionString).Password!;

    private string Endpoint => string.Create(CultureInfo.InvariantCulture, $"postgres@127.0.0.1:{server.Port}");

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        admin = await host.AdminAsync();
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Adding_a_server_connects_records_its_version_keeps_the_connection_only_protected_and_announces_it()
    {
        var changes = Channel.CreateUnbounded<DatabaseServerChanged>();
        using var _ = host.Services.GetRequiredService<LiveUpdates>().Subscribe(m => m is DatabaseServerChanged c ? changes.Writer.WriteAsync(c, Ct).AsTask() : Task.CompletedTask);

        var added = await Servers.AddAsync(admin, new DatabaseServerInput("db1", server.AdminConnectionString, "db1.example.com", 6432, 20, 500), Ct);

        Assert.Equal((DatabaseServerState.Online, Endpoint, "db1.example.com", 6432), (added.State, added.Endpoint, added.ClientHost, added.ClientPort));
        Assert.StartsWith("PostgreSQL 15", added.Version, StringComparison.Ordinal);
        Assert.Equal((host.Time.GetUtcNow(), (string?)null), (added.LastSeenAt, added.LastError));
        Assert.Equal((0, 0L, 20, 500), (added.Databases, added.AllocatedGiB, added.MaxDatabases, added.StorageGiB));
        await using (var db = host.NewDb())
        {
            var stored = await db.DatabaseServers.AsNoTracking().SingleAsync(s => s.Name == "db1", Ct);
            Assert.DoesNotContain(SuperPassword, stored.ProtectedAdminConnection, StringComparison.Ordinal);
            Assert.Equal(server.AdminConnectionString, host.Services.GetRequiredService<DatabaseServerSecrets>().Unprotect(stored.ProtectedAdminConnection!));
        }

        var registered = Assert.Single(await host.AuditAsync(AuditActions.DatabaseServerRegistered));
        Assert.Equal(("database server db1", admin.UserId), (registered.Target, registered.ActorId));
        Assert.Contains($"PostgreSQL at {Endpoint}, clients use db1.example.com:6432, capacity 20 databases and 500 GiB", registered.Details, StringComparison.Ordinal);
        await AssertPasswordInNoAuditEntryAsync();
        Assert.Equal(added.Id, (await changes.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct)).EntityId);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_the_servers_words_and_nothing_is_saved()
    {
        var wrong = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Password = "not-the-password-4417" }.ConnectionString;

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Servers.AddAsync(admin, new DatabaseServerInput("db1", wrong, null, null, 100, 100), Ct));

        Assert.Equal("The server cannot serve the portal: The database server refused: password authentication failed for user \"postgres\"",
            refused.For(nameof(DatabaseServerInput.AdminConnection)));
        Assert.Equal(["embedded"], await ServerNamesAsync());
        await AssertPasswordInNoAuditEntryAsync("not-the-password-4417");
    }

    [Fact]
    public async Task A_role_that_may_not_create_databases_and_roles_is_refused()
    {
        var role = "weak_" + Guid.NewGuid().ToString("N")[..8];
        await server.AdminSqlAsync($"CREATE ROLE {role} LOGIN PASSWORD 'weak-pw-1234'; GRANT CONNECT ON DATABASE postgres TO {role}");
        var weak = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Username = role, Password = "weak-pw-1234" }.ConnectionString;

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Servers.AddAsync(admin, new DatabaseServerInput("db1", weak, null, null, 100, 100), Ct));

        Assert.Equal($"The server cannot serve the portal: {role} may not create databases and roles there: the portal needs a superuser, or a role with CREATEDB and CREATEROLE.",
            refused.For(nameof(DatabaseServerInput.AdminConnection)));
        Assert.Equal(["embedded"], await ServerNamesAsync());
    }

    [Fact]
    public async Task The_same_server_and_role_cannot_be_registered_twice()
    {
        await Servers.AddAsync(admin, new DatabaseServerInput("db1", server.AdminConnectionString, null, null, 100, 100), Ct);

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Servers.AddAsync(admin, new DatabaseServerInput("db2", server.AdminConnectionString, null, null, 100, 100), Ct));

        Assert.Equal($"Database server db1 already connects as {Endpoint}.", refused.For(nameof(DatabaseServerInput.AdminConnection)));
    }

    [Fact]
    public async Task Testing_a_draft_reads_the_version_and_registers_nothing()
    {
        var test = await Servers.TestDraftAsync(admin, new DatabaseServerInput("db1", server.AdminConnectionString, null, null, 100, 100), Ct);

        Assert.True(test.Succeeded, test.Error);
        Assert.StartsWith("PostgreSQL 15", test.Version, StringComparison.Ordinal);
        Assert.Equal(["embedded"], await ServerNamesAsync());
        Assert.Contains($"draft at {Endpoint}: answered: PostgreSQL 15", Assert.Single(await host.AuditAsync(AuditActions.DatabaseServerTested)).Details, StringComparison.Ordinal);
        await AssertPasswordInNoAuditEntryAsync();
    }

    [Fact]
    public async Task Testing_a_registered_server_records_what_it_said_and_a_new_connection_through_a_change_is_tested_first()
    {
        var added = await Servers.AddAsync(admin, new DatabaseServerInput("db1", server.AdminConnectionString, null, null, 100, 100), Ct);
        host.Time.Advance(TimeSpan.FromMinutes(5));

        var test = await Servers.TestAsync(admin, added.Id, Ct);
        var wrong = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Password = "wrong-again-9921" }.ConnectionString;
        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Servers.UpdateAsync(admin, added.Id, added.ToInput() with { AdminConnection = wrong }, Ct));
        var renamed = await Servers.UpdateAsync(admin, added.Id, added.ToInput() with { Name = "primary", ClientHost = "pg.example.com" }, Ct);

        Assert.True(test.Succeeded, test.Error);
        Assert.Contains("password authentication failed", refused.For(nameof(DatabaseServerInput.AdminConnection)), StringComparison.Ordinal);
        Assert.Equal(("primary", "pg.example.com", DatabaseServerState.Online, host.Time.GetUtcNow()), (renamed.Name, renamed.ClientHost, renamed.State, renamed.LastSeenAt));
        // The change kept the stored connection: the server still answers through it.
        Assert.True((await Servers.TestAsync(admin, added.Id, Ct)).Succeeded);
        await AssertPasswordInNoAuditEntryAsync();
    }

    [Fact]
    public async Task The_first_run_registers_the_local_server_when_it_answers()
    {
        await using var fresh = await PortalTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Databases:FirstRun"] = "auto",
            ["Databases:LocalAdminConnection"] = server.AdminConnectionString,
        });
        await using var db = fresh.NewDb();

        var servers = await db.DatabaseServers.AsNoTracking().OrderBy(s => s.Name).ToListAsync(Ct);

        Assert.Equal([DatabaseServerRegistration.EmbeddedName, DatabaseServerRegistration.LocalPostgresName], servers.Select(s => s.Name));
        var local = servers.Single(s => s.Name == DatabaseServerRegistration.LocalPostgresName);
        Assert.Equal((DatabaseServerState.Online, Endpoint), (local.State, local.Endpoint));
        Assert.StartsWith("PostgreSQL 15", local.Version, StringComparison.Ordinal);
        Assert.Equal(Actor.System.UserId, Assert.Single(await fresh.AuditAsync(AuditActions.DatabaseServerRegistered)).ActorId);
        // A second start is not a first run.
        await fresh.InitializeAsync();
        Assert.Equal(2, await db.DatabaseServers.CountAsync(Ct));
    }

    [Fact]
    public async Task The_first_run_registers_no_local_server_when_none_answers()
    {
        var elsewhere = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Password = "wrong-first-run-77" }.ConnectionString;
        await using var fresh = await PortalTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Databases:FirstRun"] = "auto",
            ["Databases:LocalAdminConnection"] = elsewhere,
        });
        await using var db = fresh.NewDb();

        Assert.Equal([DatabaseServerRegistration.EmbeddedName], await db.DatabaseServers.Select(s => s.Name).ToListAsync(Ct));
    }

    [Fact]
    public async Task The_first_run_tries_no_socket_directory_without_a_socket()
    {
        await using var fresh = await PortalTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Databases:FirstRun"] = "auto",
            ["Databases:LocalAdminConnection"] = "Host=/nonexistent-socket-dir;Username=postgres",
        });
        await using var db = fresh.NewDb();

        Assert.Equal([DatabaseServerRegistration.EmbeddedName], await db.DatabaseServers.Select(s => s.Name).ToListAsync(Ct));
    }

    private async Task<List<string>> ServerNamesAsync()
    {
        await using var db = host.NewDb();
        return await db.DatabaseServers.OrderBy(s => s.Name).Select(s => s.Name).ToListAsync(Ct);
    }

    private async Task AssertPasswordInNoAuditEntryAsync(string? password = null)
    {
        await using var db = host.NewDb();
        var entries = await db.AuditEntries.AsNoTracking().ToListAsync(Ct);
        Assert.NotEmpty(entries);
        Assert.DoesNotContain(entries, e => $"{e.Target} {e.Details}".Contains(password ?? SuperPassword, StringComparison.Ordinal));
    }
}
