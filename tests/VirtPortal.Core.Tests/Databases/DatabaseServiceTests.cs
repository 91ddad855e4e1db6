using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tests.Requests;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Databases;

/// <summary>
/// The owner's side of a database. SQLite databases go through the real worker onto the embedded server;
/// a PostgreSQL database is arranged as the worker leaves one (placed on a registered server, its owner's
/// password protected and waiting), since no PostgreSQL server runs in these tests (the engine's own
/// lifecycle runs against a real one in VirtPortal.Databases.Tests).
/// </summary>
public sealed class DatabaseServiceTests : IAsyncLifetime
{
    private const string AdminConnection = "Host=db1.internal;Port=6543;Username=postgres;Password=admin-secret-31337;Database=postgres";
    private const string OwnerPassword = "Kq7mZ2xV9pR4tW8yB3nC6dF5gH2jL7sA";

    private readonly DirectoryInfo data = Directory.CreateTempSubdirectory("virtportal-db-service-");
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Actor helpdesk = default!;
    private Actor outsider = default!;
    private Guid sqliteOffering;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DatabaseService Databases => host.Services.GetRequiredService<DatabaseService>();

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        helpdesk = await host.CreateUserAsync("helpdesk@test.local", GlobalRoles.Helpdesk);
        outsider = await host.CreateUserAsync("member@globex.test");
        await host.CreateTenantAsync("Globex", (outsider, TenantRole.Member));
        await using var db = host.NewDb();
        var offering = new DatabaseOffering { Id = Guid.NewGuid(), Name = "sqlite-embedded", Engine = DatabaseEngineKind.Sqlite, StorageGiB = 1, ConnectionLimit = 1, HourlyPrice = 0.001m };
        db.DatabaseOfferings.Add(offering);
        await db.SaveChangesAsync(Ct);
        sqliteOffering = offering.Id;
    }

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        SqliteConnection.ClearAllPools();
        data.Delete(recursive: true);
    }

    [Fact]
    public async Task The_waiting_password_is_revealed_once_and_a_second_look_finds_none()
    {
        var database = await PostgresDatabaseAsync("orders");
        Assert.True((await Databases.GetAsync(scenario.Requester, database, Ct)).PasswordWaiting);

        var first = await Databases.RevealPasswordAsync(scenario.Requester, database, Ct);
        var second = await Databases.RevealPasswordAsync(scenario.Owner, database, Ct);

        Assert.Equal(OwnerPassword, first);
        Assert.Null(second);
        Assert.False((await Databases.GetAsync(scenario.Requester, database, Ct)).PasswordWaiting);
        await using var db = host.NewDb();
        Assert.False(await db.DatabaseCredentials.AnyAsync(Ct));
        var revealed = Assert.Single(await host.AuditAsync(AuditActions.DatabasePasswordRevealed));
        Assert.Equal(scenario.Requester.UserId, revealed.ActorId);
        Assert.DoesNotContain(OwnerPassword, revealed.Details + revealed.Target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Helpdesk_sees_the_database_but_is_refused_its_password_which_stays_waiting_for_the_owner()
    {
        var database = await PostgresDatabaseAsync("orders");

        Assert.True((await Databases.GetAsync(helpdesk, database, Ct)).PasswordWaiting);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Databases.RevealPasswordAsync(helpdesk, database, Ct));

        Assert.Empty(await host.AuditAsync(AuditActions.DatabasePasswordRevealed));
        Assert.Equal(OwnerPassword, await Databases.RevealPasswordAsync(scenario.Requester, database, Ct));
    }

    [Fact]
    public async Task Another_tenants_member_is_refused_a_database_exactly_as_for_an_id_that_does_not_exist()
    {
        var database = await PostgresDatabaseAsync("orders");
        var unknown = Guid.NewGuid();

        var calls = new (string What, Func<Guid, Task> Call)[]
        {
            ("details", id => Databases.GetAsync(outsider, id, Ct)),
            ("password", id => Databases.RevealPasswordAsync(outsider, id, Ct)),
            ("backup", id => Databases.OpenBackupAsync(outsider, id, Guid.NewGuid(), Ct)),
            ("file", id => Databases.OpenSqliteFileAsync(outsider, id, Ct)),
            ("figures", id => Databases.SeriesAsync(outsider, id, MetricRange.Day, Ct)),
        };
        foreach (var (what, call) in calls)
        {
            var forbidden = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => call(database));
            var missing = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => call(unknown));
            Assert.True(forbidden.Message == missing.Message, $"{what}: \"{forbidden.Message}\" and \"{missing.Message}\"");
        }

        Assert.Equal(OwnerPassword, await Databases.RevealPasswordAsync(scenario.Requester, database, Ct));
    }

    [Fact]
    public async Task Connection_details_take_host_and_port_from_the_admin_connection_but_never_its_user_or_password()
    {
        var database = await PostgresDatabaseAsync("orders");

        var details = await Databases.GetAsync(scenario.Requester, database, Ct);

        var name = details.ServerDatabaseName!;
        Assert.Equal(new DatabaseConnection("db1.internal", 6543, name, name + "_owner"), details.Connection);
        var strings = DatabaseConnectionStrings.For(details.Connection!, null);
        Assert.Equal([DatabaseConnectionStrings.Npgsql, DatabaseConnectionStrings.Libpq, DatabaseConnectionStrings.Jdbc, DatabaseConnectionStrings.Psql], strings.Select(s => s.Label));
        foreach (var value in strings.Select(s => s.Value))
        {
            Assert.DoesNotContain("admin-secret-31337", value, StringComparison.Ordinal);
            Assert.DoesNotContain("Username=postgres", value, StringComparison.Ordinal);
        }

        var npgsql = new NpgsqlConnectionStringBuilder(strings[0].Value);
        Assert.Equal(("db1.internal", 6543, name, name + "_owner", DatabaseConnectionStrings.PasswordPlaceholder),
            (npgsql.Host, npgsql.Port, npgsql.Database, npgsql.Username, npgsql.Password));
        Assert.Equal($"psql -h 'db1.internal' -p 6543 -U '{name}_owner' -d '{name}'", strings[3].Value);
    }

    [Fact]
    public async Task Connection_strings_carry_the_password_only_when_it_is_given_and_in_each_clients_syntax()
    {
        var connection = new DatabaseConnection("db.example.com", 5433, "vp_orders_0a1b2c3d", "vp_orders_0a1b2c3d_owner");

        var shown = DatabaseConnectionStrings.For(connection, OwnerPassword).ToDictionary(s => s.Label, s => s.Value);
        var hidden = DatabaseConnectionStrings.For(connection, null).ToDictionary(s => s.Label, s => s.Value);

        Assert.Equal($"postgresql://vp_orders_0a1b2c3d_owner:{OwnerPassword}@db.example.com:5433/vp_orders_0a1b2c3d", shown[DatabaseConnectionStrings.Libpq]);
        Assert.Equal($"jdbc:postgresql://db.example.com:5433/vp_orders_0a1b2c3d?user=vp_orders_0a1b2c3d_owner&password={OwnerPassword}", shown[DatabaseConnectionStrings.Jdbc]);
        Assert.Equal($"PGPASSWORD='{OwnerPassword}' psql -h 'db.example.com' -p 5433 -U 'vp_orders_0a1b2c3d_owner' -d 'vp_orders_0a1b2c3d'", shown[DatabaseConnectionStrings.Psql]);
        Assert.Equal(OwnerPassword, new NpgsqlConnectionStringBuilder(shown[DatabaseConnectionStrings.Npgsql]).Password);
        Assert.All(hidden.Values, v => Assert.DoesNotContain(OwnerPassword, v, StringComparison.Ordinal));
        Assert.Contains(DatabaseConnectionStrings.PasswordPlaceholder, hidden[DatabaseConnectionStrings.Libpq], StringComparison.Ordinal);
        Assert.DoesNotContain("PGPASSWORD", hidden[DatabaseConnectionStrings.Psql], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_servers_client_address_is_the_one_given_and_a_socket_host_reads_as_libpq_reads_it()
    {
        var database = await PostgresDatabaseAsync("orders", clientHost: "/var/run/postgresql", clientPort: 5432);

        var connection = (await Databases.GetAsync(scenario.Requester, database, Ct)).Connection!;
        var strings = DatabaseConnectionStrings.For(connection, null).ToDictionary(s => s.Label, s => s.Value);

        Assert.Equal(("/var/run/postgresql", 5432), (connection.Host, connection.Port));
        Assert.Equal($"postgresql://{connection.User}:{DatabaseConnectionStrings.PasswordPlaceholder}@/{connection.Database}?host=%2Fvar%2Frun%2Fpostgresql&port=5432", strings[DatabaseConnectionStrings.Libpq]);
        Assert.False(strings.ContainsKey(DatabaseConnectionStrings.Jdbc)); // the JDBC driver has no socket
    }

    [Fact]
    public async Task A_ready_backup_downloads_for_its_tenant_and_is_refused_to_another_tenant()
    {
        var database = await SqliteDatabaseAsync("orders");
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, database, OperationKind.Backup, ct: Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        var backup = Assert.Single((await Databases.GetAsync(scenario.Requester, database, Ct)).Backups);
        Assert.Equal(DatabaseBackupState.Ready, backup.State);

        var download = await Databases.OpenBackupAsync(scenario.OtherMember, database, backup.Id, Ct);
        await using (download.Content)
            Assert.Equal("SQLite format 3\0"u8.ToArray(), await HeadAsync(download.Content));

        Assert.Matches("^orders-[0-9]{8}-[0-9]{6}\\.sqlite$", download.FileName);
        Assert.Equal(backup.SizeBytes, new FileInfo(host.Services.GetRequiredService<DatabaseEngineRegistry>().BackupFile(backup.Id)).Length);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Databases.OpenBackupAsync(outsider, database, backup.Id, Ct));
        Assert.Single(await host.AuditAsync(AuditActions.DatabaseBackupDownloaded));
    }

    [Fact]
    public async Task A_backup_is_found_only_under_its_own_database()
    {
        var orders = await SqliteDatabaseAsync("orders");
        var invoices = await SqliteDatabaseAsync("invoices");
        await host.Services.GetRequiredService<ResourceActions>().RequestAsync(scenario.Requester, orders, OperationKind.Backup, ct: Ct);
        await Provisioning.RunOnceAsync("worker-a", Ct);
        var backup = Assert.Single((await Databases.GetAsync(scenario.Requester, orders, Ct)).Backups);

        await Assert.ThrowsAsync<PortalNotFoundException>(() => Databases.OpenBackupAsync(scenario.Requester, invoices, backup.Id, Ct));
    }

    [Fact]
    public async Task A_SQLite_database_downloads_as_its_file_and_takes_a_sound_replacement()
    {
        var database = await SqliteDatabaseAsync("orders");
        var replacement = Path.Combine(data.FullName, "replacement.sqlite");
        await using (var connection = new SqliteConnection($"Data Source={replacement};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = new SqliteCommand("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Ada');", connection);
            await command.ExecuteNonQueryAsync(Ct);
        }

        await using (var upload = File.OpenRead(replacement))
            await Databases.ReplaceSqliteFileAsync(scenario.Requester, database, upload, Ct);

        var download = await Databases.OpenSqliteFileAsync(scenario.Requester, database, Ct);
        var copy = Path.Combine(data.FullName, "downloaded.sqlite");
        await using (download.Content)
        await using (var file = File.Create(copy))
            await download.Content.CopyToAsync(file, Ct);
        Assert.Equal("orders.sqlite", download.FileName);
        Assert.Equal("Ada", await ScalarAsync(copy, "SELECT name FROM customers"));
    }

    [Fact]
    public async Task An_upload_that_is_not_a_sound_SQLite_file_is_refused_and_the_database_is_left_as_it_was()
    {
        var database = await SqliteDatabaseAsync("orders");
        var file = await FileOfAsync(database);
        var before = await File.ReadAllBytesAsync(file, Ct);

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Databases.ReplaceSqliteFileAsync(scenario.Requester, database, new MemoryStream("not a database at all, just words"u8.ToArray()), Ct));

        Assert.Equal("The file is not an SQLite database.", Assert.Single(error.Errors["File"]));
        Assert.Equal(before, await File.ReadAllBytesAsync(file, Ct));
        Assert.Empty(await host.AuditAsync(AuditActions.DatabaseFileReplaced));
    }

    [Fact]
    public async Task Helpdesk_may_not_replace_or_download_a_tenants_data()
    {
        var database = await SqliteDatabaseAsync("orders");

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Databases.ReplaceSqliteFileAsync(helpdesk, database, Stream.Null, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Databases.OpenSqliteFileAsync(helpdesk, database, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Databases.OpenBackupAsync(helpdesk, database, Guid.NewGuid(), Ct));
    }

    private async Task<Guid> SqliteDatabaseAsync(string name)
    {
        await host.Drafts().SubmitAsync(scenario.Requester, new RequestDraft
        {
            Kind = RequestKind.NewDatabase, TenantId = scenario.TenantId, Name = name, OfferingId = sqliteOffering, LeaseDays = 7, Justification = "for the tests",
        }, Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        var database = (await host.ResourcesAsync(scenario.TenantId)).Single(r => r.Name == name);
        Assert.Equal(ResourceState.Running, database.State);
        return database.Id;
    }

    /// <summary>A PostgreSQL database as the worker leaves it after its create: placed, running, its password protected and waiting.</summary>
    private async Task<Guid> PostgresDatabaseAsync(string name, string? clientHost = null, int? clientPort = null)
    {
        var secrets = host.Services.GetRequiredService<DatabaseServerSecrets>();
        var now = host.Time.GetUtcNow();
        var server = new DatabaseServer
        {
            Id = Guid.CreateVersion7(now), Name = "db1", Engine = DatabaseEngineKind.PostgreSql, ProtectedAdminConnection = secrets.Protect(AdminConnection),
            Endpoint = DatabaseServerSecrets.Describe(AdminConnection), ClientHost = clientHost, ClientPort = clientPort, State = DatabaseServerState.Online, CreatedAt = now,
        };
        var id = Guid.CreateVersion7(now);
        var resource = new Resource
        {
            Id = id, TenantId = scenario.TenantId, Kind = ResourceKind.Database, Name = name, OfferingId = scenario.Catalog.Postgres, DiskGiB = 20,
            State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(7), Version = 1,
            DatabaseServerId = server.Id, DatabaseName = DatabaseNames.ServerName(name, id),
        };
        await using var db = host.NewDb();
        db.DatabaseServers.Add(server);
        db.Resources.Add(resource);
        db.DatabaseCredentials.Add(new DatabaseCredential { ResourceId = id, ProtectedPassword = secrets.ProtectPassword(OwnerPassword), IssuedAt = now });
        await db.SaveChangesAsync(Ct);
        return id;
    }

    private async Task<string> FileOfAsync(Guid database)
    {
        await using var db = host.NewDb();
        var name = await db.Resources.Where(r => r.Id == database).Select(r => r.DatabaseName).SingleAsync(Ct);
        return Path.Combine(host.Files.FullName, "databases", name + ".sqlite");
    }

    private static async Task<byte[]> HeadAsync(Stream content)
    {
        var head = new byte[16];
        await content.ReadExactlyAsync(head, Ct);
        return head;
    }

    private static async Task<object?> ScalarAsync(string file, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = new SqliteCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }
}
