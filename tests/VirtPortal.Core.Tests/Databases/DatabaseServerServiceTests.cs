using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Databases;

/// <summary>
/// The admins' database server operations that need no PostgreSQL: the embedded server the first run
/// registers, validation, refusals, and a registered server whose port nobody listens on. What a real
/// PostgreSQL answers is tested in VirtPortal.Databases.Tests.
/// </summary>
public sealed class DatabaseServerServiceTests : PortalTestBase
{
    private const string Password = "s3cret-Admin-Pw-7731";

    private DatabaseServerService Servers => Host.Services.GetRequiredService<DatabaseServerService>();

    [Fact]
    public async Task The_list_shows_the_embedded_server_with_what_it_holds_against_its_capacity()
    {
        var admin = await Host.AdminAsync();
        var embedded = await EmbeddedAsync();
        await PlaceDatabasesAsync(embedded.Id, ("orders", 5, ResourceState.Running), ("gone", 50, ResourceState.Deleted), ("logs", 3, ResourceState.Provisioning));

        var view = Assert.Single(await Servers.ListAsync(admin, Ct));

        Assert.Equal(("embedded", DatabaseEngineKind.Sqlite, DatabaseServerState.Online, true), (view.Name, view.Engine, view.State, view.IsEmbedded));
        Assert.Equal((2, 8L, 1000, 100), (view.Databases, view.AllocatedGiB, view.MaxDatabases, view.StorageGiB));
    }

    [Theory]
    [InlineData("helpdesk@test.local", GlobalRoles.Helpdesk)]
    [InlineData("approver@test.local", GlobalRoles.Approver)]
    [InlineData("member@test.local", null)]
    public async Task Everyone_but_admins_is_refused_and_the_refusal_is_audited(string email, string? role)
    {
        var actor = role is null ? await Host.CreateUserAsync(email) : await Host.CreateUserAsync(email, role);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Servers.ListAsync(actor, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Servers.AddAsync(actor, Input("db1", ClosedPortConnection()), Ct));

        var denials = await Host.AuditAsync(AuditActions.AccessDenied);
        Assert.Equal(2, denials.Count(d => d.ActorId == actor.UserId && d.Target == "database servers"));
    }

    [Theory]
    [InlineData("", "Host=db1;Username=postgres", "Name", "Enter a name for the server.")]
    [InlineData("db one", "Host=db1;Username=postgres", "Name", "only letters, digits")]
    [InlineData("EMBEDDED", "Host=db1;Username=postgres", "Name", "A database server named EMBEDDED is already registered.")]
    [InlineData("db1", "", "AdminConnection", "Enter the admin connection string")]
    [InlineData("db1", "not a connection string", "AdminConnection", "This is not a PostgreSQL connection string")]
    [InlineData("db1", "Username=postgres;Password=" + Password, "AdminConnection", "Name the server with Host=")]
    [InlineData("db1", "Host=db1;Password=" + Password, "AdminConnection", "Name the admin role with Username=")]
    [InlineData("db1", "Host=a,b;Username=postgres", "AdminConnection", "Name one server")]
    public async Task A_bad_server_is_refused_with_the_reason_next_to_its_field_and_nothing_changes(string name, string connection, string field, string message)
    {
        var admin = await Host.AdminAsync();

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Servers.AddAsync(admin, Input(name, connection), Ct));

        Assert.Contains(message, refused.For(field), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, refused.Message, StringComparison.Ordinal);
        await AssertOnlyEmbeddedAsync();
    }

    [Theory]
    [InlineData("not a host!", null, 100, 100, "ClientHost", "host name or IP address")]
    [InlineData(null, 70000, 100, 100, "ClientPort", "between 1 and 65535")]
    [InlineData(null, null, 0, 100, "MaxDatabases", "between 1 and 10000")]
    [InlineData(null, null, 100, 0, "StorageGiB", "between 1 and 1048576 GiB")]
    public async Task Bad_client_host_port_or_capacity_is_refused_next_to_its_field(string? clientHost, int? clientPort, int maxDatabases, int storage, string field, string message)
    {
        var admin = await Host.AdminAsync();
        var input = new DatabaseServerInput("db1", "Host=db1;Username=postgres", clientHost, clientPort, maxDatabases, storage);

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Servers.AddAsync(admin, input, Ct));

        Assert.Contains(message, refused.For(field), StringComparison.Ordinal);
        await AssertOnlyEmbeddedAsync();
    }

    [Fact]
    public async Task An_add_that_cannot_connect_is_refused_with_the_servers_reason_and_saves_nothing()
    {
        var admin = await Host.AdminAsync();
        var connection = ClosedPortConnection();

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Servers.AddAsync(admin, Input("db1", connection), Ct));

        Assert.Contains("The server cannot serve the portal: The database server at 127.0.0.1:", refused.For(nameof(DatabaseServerInput.AdminConnection)), StringComparison.Ordinal);
        Assert.Contains("does not answer", refused.For(nameof(DatabaseServerInput.AdminConnection)), StringComparison.Ordinal);
        await AssertOnlyEmbeddedAsync();
        Assert.Empty(await Host.AuditAsync(AuditActions.DatabaseServerRegistered));
    }

    [Fact]
    public async Task Testing_a_registered_server_that_does_not_answer_marks_it_unreachable_and_never_audits_its_password()
    {
        var admin = await Host.AdminAsync();
        var server = await RegisterAsync("db1", ClosedPortConnection());

        var test = await Servers.TestAsync(admin, server.Id, Ct);

        Assert.False(test.Succeeded);
        var view = (await Servers.ListAsync(admin, Ct)).Single(s => s.Name == "db1");
        Assert.Equal(DatabaseServerState.Unreachable, view.State);
        Assert.Contains("does not answer", view.LastError, StringComparison.Ordinal);
        Assert.StartsWith("postgres@127.0.0.1:", view.Endpoint, StringComparison.Ordinal);
        Assert.Contains(await Host.AuditAsync(AuditActions.DatabaseServerTested), e => e.Target == "database server db1" && e.Details.StartsWith("failed: ", StringComparison.Ordinal));
        await AssertPasswordNowhereAsync();
    }

    [Fact]
    public async Task Maintenance_keeps_a_server_out_until_it_ends_and_ending_it_connects_again()
    {
        var admin = await Host.AdminAsync();
        var server = await RegisterAsync("db1", ClosedPortConnection(), DatabaseServerState.Online);

        await Servers.SetMaintenanceAsync(admin, server.Id, maintenance: true, Ct);
        var during = (await Servers.ListAsync(admin, Ct)).Single(s => s.Name == "db1");
        await Servers.SetMaintenanceAsync(admin, server.Id, maintenance: false, Ct);
        var after = (await Servers.ListAsync(admin, Ct)).Single(s => s.Name == "db1");

        Assert.Equal(DatabaseServerState.Maintenance, during.State);
        Assert.Equal(DatabaseServerState.Unreachable, after.State);
        Assert.Single(await Host.AuditAsync(AuditActions.DatabaseServerMaintenanceStarted));
        Assert.Contains("back in service: Unreachable", Assert.Single(await Host.AuditAsync(AuditActions.DatabaseServerMaintenanceEnded)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_embedded_server_cannot_be_removed()
    {
        var admin = await Host.AdminAsync();
        var embedded = await EmbeddedAsync();

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Servers.RemoveAsync(admin, embedded.Id, Ct));

        Assert.Contains("embedded SQLite server", refused.For(""), StringComparison.Ordinal);
        await AssertOnlyEmbeddedAsync();
    }

    [Fact]
    public async Task A_server_holding_live_databases_cannot_be_removed_and_says_which()
    {
        var admin = await Host.AdminAsync();
        var server = await RegisterAsync("db1", ClosedPortConnection());
        await PlaceDatabasesAsync(server.Id, ("orders", 5, ResourceState.Running), ("billing", 5, ResourceState.Running));

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Servers.RemoveAsync(admin, server.Id, Ct));

        Assert.Equal("db1 still holds 2 database(s) (billing, orders). Delete them first; until then, maintenance keeps new ones away.", refused.For(""));
        Assert.Contains(await ServerNamesAsync(), n => n == "db1");
    }

    [Fact]
    public async Task A_server_with_a_drop_waiting_for_it_cannot_be_removed()
    {
        var admin = await Host.AdminAsync();
        var server = await RegisterAsync("db1", ClosedPortConnection());
        var (deleted, _) = await PlaceDatabasesAsync(server.Id, ("orders", 5, ResourceState.Deleted));
        await using (var db = Host.NewDb())
        {
            db.Operations.Add(Operation.Queue(await db.Resources.SingleAsync(r => r.Id == deleted, Ct), OperationKind.Delete, admin.UserId, Host.Time.GetUtcNow()));
            await db.SaveChangesAsync(Ct);
        }

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Servers.RemoveAsync(admin, server.Id, Ct));

        Assert.Contains("1 deleted database(s) still wait to be dropped on db1", refused.For(""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_a_server_that_holds_nothing_forgets_it_and_keeps_past_databases_records()
    {
        var admin = await Host.AdminAsync();
        var server = await RegisterAsync("db1", ClosedPortConnection());
        var (past, _) = await PlaceDatabasesAsync(server.Id, ("old", 5, ResourceState.Deleted));

        await Servers.RemoveAsync(admin, server.Id, Ct);

        Assert.Equal(["embedded"], await ServerNamesAsync());
        await using var db = Host.NewDb();
        Assert.Null((await db.Resources.SingleAsync(r => r.Id == past, Ct)).DatabaseServerId);
        Assert.Contains(await Host.AuditAsync(AuditActions.DatabaseServerRemoved), e => e.Target == "database server db1");
        await AssertPasswordNowhereAsync();
    }

    [Fact]
    public async Task Capacity_cannot_drop_below_what_a_server_holds_and_a_change_within_it_is_saved()
    {
        var admin = await Host.AdminAsync();
        var embedded = await EmbeddedAsync();
        await PlaceDatabasesAsync(embedded.Id, ("orders", 30, ResourceState.Running), ("logs", 30, ResourceState.Running));
        var view = Assert.Single(await Servers.ListAsync(admin, Ct));

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Servers.UpdateAsync(admin, embedded.Id, view.ToInput() with { MaxDatabases = 1, StorageGiB = 50 }, Ct));
        var saved = await Servers.UpdateAsync(admin, embedded.Id, view.ToInput() with { MaxDatabases = 2, StorageGiB = 60 }, Ct);

        Assert.Equal("embedded holds 2 database(s): its limit cannot be lower.", refused.For(nameof(DatabaseServerInput.MaxDatabases)));
        Assert.Equal("embedded has 60 GiB allocated: its storage cannot be lower.", refused.For(nameof(DatabaseServerInput.StorageGiB)));
        Assert.Equal((2, 60), (saved.MaxDatabases, saved.StorageGiB));
        Assert.Contains("capacity 2 databases and 60 GiB", Assert.Single(await Host.AuditAsync(AuditActions.DatabaseServerUpdated)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_embedded_server_takes_no_connection_or_client_host()
    {
        var admin = await Host.AdminAsync();
        var embedded = await EmbeddedAsync();

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Servers.UpdateAsync(admin, embedded.Id, new DatabaseServerInput("embedded", "Host=db1;Username=postgres", null, null, 1000, 100), Ct));

        Assert.Contains("has no connection or client host to set", refused.For(nameof(DatabaseServerInput.AdminConnection)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Testing_the_embedded_server_reads_the_sqlite_version()
    {
        var admin = await Host.AdminAsync();
        var embedded = await EmbeddedAsync();

        var test = await Servers.TestAsync(admin, embedded.Id, Ct);

        Assert.True(test.Succeeded, test.Error);
        Assert.StartsWith("SQLite 3.", test.Version, StringComparison.Ordinal);
        Assert.Equal(test.Version, Assert.Single(await Servers.ListAsync(admin, Ct)).Version);
    }

    private static DatabaseServerInput Input(string name, string connection) => new(name, connection, null, null, 100, 100);

    /// <summary>A loopback port nobody listens on: connecting is refused at once.</summary>
    private static string ClosedPortConnection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"Host=127.0.0.1;Port={port};Username=postgres;Password={Password};Timeout=2";
    }

    /// <summary>A PostgreSQL server as the service would have stored it (an add needs a server that answers; those tests live with the PostgreSQL fixture).</summary>
    private async Task<DatabaseServer> RegisterAsync(string name, string connection, DatabaseServerState state = DatabaseServerState.Online)
    {
        var now = Host.Time.GetUtcNow();
        var server = new DatabaseServer
        {
            Id = Guid.CreateVersion7(now), Name = name, Engine = DatabaseEngineKind.PostgreSql, State = state, CreatedAt = now,
            ProtectedAdminConnection = Host.Services.GetRequiredService<DatabaseServerSecrets>().Protect(connection),
            Endpoint = DatabaseServerSecrets.Describe(connection),
        };
        await using var db = Host.NewDb();
        db.DatabaseServers.Add(server);
        await db.SaveChangesAsync(Ct);
        return server;
    }

    private async Task<(Guid First, Guid TenantId)> PlaceDatabasesAsync(Guid serverId, params (string Name, int GiB, ResourceState State)[] databases)
    {
        var tenantId = await Host.CreateTenantAsync("Acme");
        var now = Host.Time.GetUtcNow();
        var ids = new List<Guid>();
        await using var db = Host.NewDb();
        foreach (var (name, gib, state) in databases)
        {
            var resource = new Resource
            {
                Id = Guid.NewGuid(), TenantId = tenantId, Kind = ResourceKind.Database, Name = name, DiskGiB = gib, State = state,
                CreatedAt = now, LeaseEndsAt = now.AddDays(7), Version = 1, DatabaseServerId = serverId, DatabaseName = DatabaseNames.ServerName(name, Guid.NewGuid()),
            };
            db.Resources.Add(resource);
            ids.Add(resource.Id);
        }

        await db.SaveChangesAsync(Ct);
        return (ids[0], tenantId);
    }

    private async Task<DatabaseServer> EmbeddedAsync()
    {
        await using var db = Host.NewDb();
        return await db.DatabaseServers.AsNoTracking().SingleAsync(s => s.Name == DatabaseServerRegistration.EmbeddedName, Ct);
    }

    private async Task<List<string>> ServerNamesAsync()
    {
        await using var db = Host.NewDb();
        return await db.DatabaseServers.OrderBy(s => s.Name).Select(s => s.Name).ToListAsync(Ct);
    }

    private async Task AssertOnlyEmbeddedAsync() => Assert.Equal(["embedded"], await ServerNamesAsync());

    private async Task AssertPasswordNowhereAsync()
    {
        await using var db = Host.NewDb();
        var entries = await db.AuditEntries.AsNoTracking().ToListAsync(Ct);
        Assert.NotEmpty(entries);
        Assert.DoesNotContain(entries, e => $"{e.Target} {e.Details}".Contains(Password, StringComparison.Ordinal));
        Assert.DoesNotContain(await db.DatabaseServers.AsNoTracking().ToListAsync(Ct),
            s => $"{s.ProtectedAdminConnection} {s.Endpoint} {s.LastError}".Contains(Password, StringComparison.Ordinal));
    }
}
