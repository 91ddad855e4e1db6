using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Databases.Tests;

/// <summary>
/// Database requests through the portal's worker onto a real PostgreSQL server, with psql as the client that
/// checks what the owner of the database can do with the credentials the portal issued.
/// </summary>
public sealed class PostgresProvisioningTests(PostgresServer server) : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    private DatabaseServerSecrets Secrets => host.Services.GetRequiredService<DatabaseServerSecrets>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await RegisterAsync("pg-test", server.AdminConnectionString);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_database_goes_through_create_connect_new_password_backup_restore_and_delete_as_its_owner_sees_it_in_psql()
    {
        // 1. Create: an approved request, one worker run.
        var requestId = await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders"), Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        var orders = await SingleDatabaseAsync("orders");
        Assert.Equal(ResourceState.Running, orders.State);
        Assert.Equal(RequestState.Completed, (await host.RequestAsync(requestId)).State);
        var owner = DatabaseNames.OwnerOf(orders.DatabaseName!);

        // 2-3. The issued credentials open it, and the owner makes a table.
        var first = await IssuedPasswordAsync(orders.Id);
        var made = await server.PsqlAsync(owner, first, orders.DatabaseName!, "CREATE TABLE items(id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'kept'); SELECT name FROM items");
        Assert.True(made.ExitCode == 0, made.Error);
        Assert.Equal("kept", made.Output);

        // 4. A new password: the old one is refused, the new one accepted.
        await Actions.RequestAsync(scenario.Requester, orders.Id, OperationKind.RotatePassword, null, Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        var second = await IssuedPasswordAsync(orders.Id);
        Assert.NotEqual(first, second);
        var old = await server.PsqlAsync(owner, first, orders.DatabaseName!, "SELECT 1");
        Assert.NotEqual(0, old.ExitCode);
        Assert.Contains("password authentication failed", old.Error, StringComparison.Ordinal);
        Assert.Equal("1", (await server.PsqlAsync(owner, second, orders.DatabaseName!, "SELECT 1")).Output);

        // 5. A backup, restored into a new database through a request: the table is there.
        await Actions.RequestAsync(scenario.Requester, orders.Id, OperationKind.Backup, null, Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        DatabaseBackup backup;
        await using (var db = host.NewDb())
            backup = await db.DatabaseBackups.AsNoTracking().SingleAsync(b => b.ResourceId == orders.Id, Ct);
        Assert.Equal((DatabaseBackupState.Ready, DatabaseEngineKind.PostgreSql), (backup.State, backup.Engine));
        Assert.True(backup.SizeBytes > 0);
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("orders_copy") with { RestoreFromBackupId = backup.Id }, Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        var copy = await SingleDatabaseAsync("orders_copy");
        Assert.Equal(ResourceState.Running, copy.State);
        var restored = await server.PsqlAsync(DatabaseNames.OwnerOf(copy.DatabaseName!), await IssuedPasswordAsync(copy.Id), copy.DatabaseName!, "SELECT name FROM items WHERE id = 1");
        Assert.True(restored.ExitCode == 0, restored.Error);
        Assert.Equal("kept", restored.Output);

        // 6. Delete: the record goes at once; the worker drops the database and its role.
        await Actions.RequestAsync(scenario.Requester, orders.Id, OperationKind.Delete, "orders", Ct);
        Assert.Equal(ResourceState.Deleted, (await SingleDatabaseAsync("orders")).State);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        Assert.Equal("", await server.AdminSqlAsync($"SELECT datname FROM pg_database WHERE datname = '{orders.DatabaseName}'"));
        Assert.Equal("", await server.AdminSqlAsync($"SELECT rolname FROM pg_roles WHERE rolname = '{owner}'"));
        Assert.False(File.Exists(host.Services.GetRequiredService<DatabaseEngineRegistry>().BackupFile(backup.Id)));
    }

    [Fact]
    public async Task A_crash_between_database_created_and_rights_granted_ends_after_recovery_with_a_working_database_and_no_orphan_role()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("ledger"), Ct);
        var crashed = false;
        Provisioning.CrashPoint = step =>
        {
            if (step == IDatabaseEngine.DatabaseCreatedStep && !crashed)
            {
                crashed = true;
                throw new SimulatedCrash();
            }

            return Task.CompletedTask;
        };

        await Assert.ThrowsAsync<SimulatedCrash>(() => Provisioning.RunOnceAsync("worker-a", Ct));
        var ledger = await SingleDatabaseAsync("ledger");
        // What the crash left: the database exists, owned by its role, and PUBLIC may still connect to it.
        Assert.Equal(ledger.DatabaseName, await server.AdminSqlAsync($"SELECT datname FROM pg_database WHERE datname = '{ledger.DatabaseName}'"));
        Assert.Equal(ResourceState.Provisioning, ledger.State);
        host.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await Provisioning.RunOnceAsync("worker-b", Ct));

        ledger = await SingleDatabaseAsync("ledger");
        Assert.Equal(ResourceState.Running, ledger.State);
        var owner = DatabaseNames.OwnerOf(ledger.DatabaseName!);
        var used = await server.PsqlAsync(owner, await IssuedPasswordAsync(ledger.Id), ledger.DatabaseName!, "CREATE TABLE t(x int); INSERT INTO t VALUES (7); SELECT x FROM t");
        Assert.True(used.ExitCode == 0, used.Error);
        Assert.Equal("7", used.Output);
        // One role for the database, its owner: the retry made none of its own.
        var prefix = ledger.DatabaseName!.Replace("_", "\\_", StringComparison.Ordinal);
        Assert.Equal(owner, await server.AdminSqlAsync($"SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolname LIKE '{prefix}%'"));
        // And the rights the crash interrupted were granted: another login role cannot connect.
        var stranger = "vp_stranger_" + Guid.NewGuid().ToString("N")[..8];
        await server.AdminSqlAsync($"CREATE ROLE {stranger} LOGIN PASSWORD 'stranger-password-1'");
        var refused = await server.PsqlAsync(stranger, "stranger-password-1", ledger.DatabaseName!, "SELECT 1");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("permission denied for database", refused.Error, StringComparison.Ordinal);
        await server.AdminSqlAsync($"DROP ROLE {stranger}");
    }

    [Fact]
    public async Task A_database_whose_server_is_gone_is_deleted_at_once_and_dropped_when_the_server_answers_again()
    {
        // Made on the real server, then its server's connection points where nothing answers.
        await host.Drafts().SubmitAsync(scenario.Requester, NewDatabase("gone"), Ct);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        var gone = await SingleDatabaseAsync("gone");
        await SetConnectionAsync("pg-test", $"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Password=x;Timeout=2");

        await Actions.RequestAsync(scenario.Requester, gone.Id, OperationKind.Delete, "gone", Ct);
        Assert.Equal(ResourceState.Deleted, (await SingleDatabaseAsync("gone")).State);
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));

        // The drop waits for the server; the record stays deleted and the tenant's quota free.
        Operation drop;
        await using (var db = host.NewDb())
            drop = await db.Operations.AsNoTracking().SingleAsync(o => o.ResourceId == gone.Id && o.Kind == OperationKind.Delete, Ct);
        Assert.Equal(OperationState.Pending, drop.State);
        Assert.NotNull(drop.NotBefore);
        Assert.Equal(ResourceState.Deleted, (await SingleDatabaseAsync("gone")).State);
        Assert.Equal(0, (await host.Services.GetRequiredService<RequestDrafts>().PreflightAsync(scenario.Requester, NewDatabase("next"), Ct)).Quota.Lines.Single(l => l.Dimension == "Databases").Used);
        Assert.Equal(gone.DatabaseName, await server.AdminSqlAsync($"SELECT datname FROM pg_database WHERE datname = '{gone.DatabaseName}'"));

        await SetConnectionAsync("pg-test", server.AdminConnectionString);
        host.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(await Provisioning.RunOnceAsync("worker-a", Ct));
        Assert.Equal("", await server.AdminSqlAsync($"SELECT datname FROM pg_database WHERE datname = '{gone.DatabaseName}'"));
        await using (var db = host.NewDb())
            Assert.Equal(OperationState.Succeeded, (await db.Operations.AsNoTracking().SingleAsync(o => o.Id == drop.Id, Ct)).State);
    }

    [Fact]
    public async Task A_create_on_a_server_that_never_answers_fails_with_the_time_limit_as_its_reason()
    {
        await using var silent = new SilentServer();
        await using var quick = await PortalTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Databases:EngineTimeout"] = "00:00:02",
        });
        var quickScenario = await RequestTestData.ArrangeAsync(quick);
        await using (var db = quick.NewDb())
        {
            db.DatabaseServers.Add(Server(quick, "silent", $"Host=127.0.0.1;Port={silent.Port};Username=postgres;Password=x"));
            await db.SaveChangesAsync(Ct);
        }

        var requestId = await quick.Drafts().SubmitAsync(quickScenario.Requester, NewDatabase("slow") with { TenantId = quickScenario.TenantId, OfferingId = quickScenario.Catalog.Postgres }, Ct);
        Assert.True(await quick.Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker-a", Ct));

        var request = await quick.RequestAsync(requestId);
        Assert.Equal((RequestState.Failed, Core.Provisioning.FailureKind.TimedOut), (request.State, request.FailureKind));
        Assert.Contains("did not finish within 2 s", request.FailureDetail, StringComparison.Ordinal);
        Assert.StartsWith("The database server took too long to create the database", request.Reason, StringComparison.Ordinal);
        Assert.Equal(ResourceState.Failed, Assert.Single(await quick.ResourcesAsync(quickScenario.TenantId)).State);
    }

    private ResourceActions Actions => host.Services.GetRequiredService<ResourceActions>();

    private RequestDraft NewDatabase(string name) => new()
    {
        Kind = RequestKind.NewDatabase,
        TenantId = scenario.TenantId,
        Name = name,
        OfferingId = scenario.Catalog.Postgres,
        LeaseDays = 7,
        Justification = "for the tests",
    };

    private async Task<Resource> SingleDatabaseAsync(string name) =>
        Assert.Single(await host.ResourcesAsync(scenario.TenantId), r => r.Name == name);

    /// <summary>The password the worker issued and keeps, protected, for the owner's one look.</summary>
    private async Task<string> IssuedPasswordAsync(Guid resourceId)
    {
        await using var db = host.NewDb();
        var credential = await db.DatabaseCredentials.AsNoTracking().SingleAsync(c => c.ResourceId == resourceId, Ct);
        Assert.DoesNotContain(DatabaseNames.Prefix, credential.ProtectedPassword, StringComparison.Ordinal);
        return Secrets.UnprotectPassword(credential.ProtectedPassword);
    }

    private async Task RegisterAsync(string name, string connection)
    {
        await using var db = host.NewDb();
        db.DatabaseServers.Add(Server(host, name, connection));
        await db.SaveChangesAsync(Ct);
    }

    private async Task SetConnectionAsync(string name, string connection)
    {
        await using var db = host.NewDb();
        var registered = await db.DatabaseServers.SingleAsync(s => s.Name == name, Ct);
        registered.ProtectedAdminConnection = Secrets.Protect(connection);
        await db.SaveChangesAsync(Ct);
    }

    private static DatabaseServer Server(PortalTestHost portal, string name, string connection) => new()
    {
        Id = Guid.NewGuid(),
        Name = name,
        Engine = DatabaseEngineKind.PostgreSql,
        ProtectedAdminConnection = portal.Services.GetRequiredService<DatabaseServerSecrets>().Protect(connection),
        Endpoint = DatabaseServerSecrets.Describe(connection),
        State = DatabaseServerState.Online,
        CreatedAt = portal.Time.GetUtcNow(),
    };

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class SimulatedCrash : Exception;

    /// <summary>A server that accepts connections and never says a word, as a hung PostgreSQL would.</summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> clients = [];
        private readonly CancellationTokenSource stop = new();
        private readonly Task accepting;

        public SilentServer()
        {
            listener.Start();
            accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                    clients.Add(await listener.AcceptTcpClientAsync(stop.Token));
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await accepting;
            listener.Stop();
            foreach (var client in clients)
                client.Dispose();
            stop.Dispose();
        }
    }
}
