using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests;
using VirtPortal.Core.Tests.Requests;

namespace VirtPortal.Databases.Tests;

/// <summary>
/// The periodic check of database servers against a real PostgreSQL server, changed behind the portal's
/// back with psql: health apart from the server's, a server that stops answering, and drift.
/// </summary>
public sealed class DatabaseHealthTests(PostgresServer server) : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private RequestScenario scenario = default!;
    private Guid serverId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DatabaseHealth Health => host.Services.GetRequiredService<DatabaseHealth>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        await using var db = host.NewDb();
        var registered = new DatabaseServer
        {
            Id = Guid.NewGuid(), Name = "pg-health", Engine = DatabaseEngineKind.PostgreSql, State = DatabaseServerState.Online,
            ProtectedAdminConnection = host.Services.GetRequiredService<DatabaseServerSecrets>().Protect(server.AdminConnectionString),
            Endpoint = DatabaseServerSecrets.Describe(server.AdminConnectionString), CreatedAt = host.Time.GetUtcNow(),
        };
        db.DatabaseServers.Add(registered);
        await db.SaveChangesAsync(Ct);
        serverId = registered.Id;
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_check_confirms_a_database_with_its_figures_turns_it_Unknown_while_its_server_is_silent_and_brings_it_back()
    {
        var database = await CreateAsync("metrics");
        await Health.CheckAsync(Ct);
        var checkedOnce = await ReloadAsync(database.Id);
        Assert.Equal(ResourceState.Running, checkedOnce.ObservedState);
        Assert.True(Health.Latest(database.Id) is { SizeBytes: > 1_000_000, ActiveConnections: >= 0 });

        await SetConnectionAsync($"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Password=x;Timeout=2");
        var silent = await Health.CheckAsync(Ct);

        Assert.Equal(1, silent.Unreachable);
        Assert.Equal(ResourceState.Unknown, (await ReloadAsync(database.Id)).ObservedState);
        Assert.Equal(ResourceState.Unknown, ResourceLifecycle.Shown(await ReloadAsync(database.Id)));
        await using (var db = host.NewDb())
        {
            var registered = await db.DatabaseServers.AsNoTracking().SingleAsync(s => s.Id == serverId, Ct);
            Assert.Equal(DatabaseServerState.Unreachable, registered.State);
            Assert.NotNull(registered.LastError);
        }

        await SetConnectionAsync(server.AdminConnectionString);
        await Health.CheckAsync(Ct);
        Assert.Equal(ResourceState.Running, (await ReloadAsync(database.Id)).ObservedState);
        await using (var db = host.NewDb())
            Assert.Equal(DatabaseServerState.Online, (await db.DatabaseServers.AsNoTracking().SingleAsync(s => s.Id == serverId, Ct)).State);
    }

    [Fact]
    public async Task A_database_dropped_behind_the_portals_back_is_drift_and_accepting_it_frees_the_record()
    {
        var database = await CreateAsync("dropped");
        await server.AdminSqlAsync($"DROP DATABASE \"{database.DatabaseName}\" WITH (FORCE)");

        await Health.CheckAsync(Ct);

        // The server is shared with the other test classes: their databases are drift here too, so only this one's is asserted.
        Assert.Equal(ResourceState.Unknown, (await ReloadAsync(database.Id)).ObservedState);
        var drifts = host.Services.GetRequiredService<DriftService>();
        var drift = Assert.Single(await drifts.ListOpenAsync(scenario.Admin, Ct), d => d.DomainName == database.DatabaseName);
        Assert.Equal(("pg-health", DriftKind.Vanished, (Guid?)database.Id), (drift.HostName, drift.Kind, drift.ResourceId));
        // Found once, not again on the next check.
        await Health.CheckAsync(Ct);
        Assert.Single(await drifts.ListOpenAsync(scenario.Admin, Ct), d => d.DomainName == database.DatabaseName);

        await drifts.AcceptAsync(scenario.Admin, drift.Id, Ct);

        Assert.Equal(ResourceState.Deleted, (await ReloadAsync(database.Id)).State);
        Assert.DoesNotContain(await drifts.ListOpenAsync(scenario.Admin, Ct), d => d.DomainName == database.DatabaseName);
    }

    [Fact]
    public async Task A_portal_named_database_with_no_record_is_drift_the_portal_never_takes_over()
    {
        var stray = "vp_stray_" + Guid.NewGuid().ToString("N")[..8];
        await server.AdminSqlAsync($"CREATE DATABASE {stray}");
        try
        {
            await Health.CheckAsync(Ct);

            var drifts = host.Services.GetRequiredService<DriftService>();
            var drift = Assert.Single(await drifts.ListOpenAsync(scenario.Admin, Ct), d => d.DomainName == stray);
            Assert.Equal((DriftKind.Unknown, (Guid?)null), (drift.Kind, drift.ResourceId));
            var refused = await Assert.ThrowsAsync<PortalValidationException>(() => drifts.AdoptAsync(scenario.Admin, drift.Id, scenario.TenantId, Ct));
            Assert.Contains("not taken over", refused.Message, StringComparison.Ordinal);
            Assert.Equal(stray, await server.AdminSqlAsync($"SELECT datname FROM pg_database WHERE datname = '{stray}'"));

            await server.AdminSqlAsync($"DROP DATABASE {stray}");
            await Health.CheckAsync(Ct);
            Assert.DoesNotContain(await drifts.ListOpenAsync(scenario.Admin, Ct), d => d.DomainName == stray);
        }
        finally
        {
            await server.AdminSqlAsync($"DROP DATABASE IF EXISTS {stray}");
        }
    }

    private async Task<Resource> CreateAsync(string name)
    {
        await host.Drafts().SubmitAsync(scenario.Requester, new RequestDraft
        {
            Kind = RequestKind.NewDatabase, TenantId = scenario.TenantId, Name = name, OfferingId = scenario.Catalog.Postgres, LeaseDays = 7, Justification = "tests",
        }, Ct);
        Assert.True(await host.Services.GetRequiredService<ProvisioningService>().RunOnceAsync("worker-a", Ct));
        return Assert.Single(await host.ResourcesAsync(scenario.TenantId), r => r.Name == name);
    }

    private async Task<Resource> ReloadAsync(Guid id)
    {
        await using var db = host.NewDb();
        return await db.Resources.AsNoTracking().SingleAsync(r => r.Id == id, Ct);
    }

    private async Task SetConnectionAsync(string connection)
    {
        await using var db = host.NewDb();
        var registered = await db.DatabaseServers.SingleAsync(s => s.Id == serverId, Ct);
        registered.ProtectedAdminConnection = host.Services.GetRequiredService<DatabaseServerSecrets>().Protect(connection);
        await db.SaveChangesAsync(Ct);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
