using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.E2E.Infrastructure;

/// <summary>What journeys set up through the portal's own services before the browser takes over.</summary>
public static class Arrange
{
    /// <summary>The admin the arranging steps act as.</summary>
    public static Actor Admin { get; } = new("e2e", "e2e", new HashSet<string> { GlobalRoles.Admin });

    /// <summary>A tenant of the journey's own, so that other journeys' VMs do not eat its quota, with one member.</summary>
    public static async Task<(Guid TenantId, Actor Member)> NewTenantWithMemberAsync(this PortalServer server, string tenant, string email, string name, string password,
        TenantQuota? quota = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        var tenantId = await server.Services.GetRequiredService<TenantService>().CreateAsync(Admin, tenant, "", quota ?? TenantQuota.Default, ct);
        var created = await server.Services.GetRequiredService<UserAdministration>().CreateAsync(Admin,
            new NewUser(email, name, [], tenantId, TenantRole.Member, password), ct);
        return (tenantId, new Actor(created.UserId, name, new HashSet<string>()));
    }

    /// <summary>
    /// Registers <paramref name="postgres"/> with the portal as its PostgreSQL server, as an admin's add
    /// would leave it (the connection protected at rest), and returns its id.
    /// </summary>
    public static async Task<Guid> RegisterPostgresAsync(this PortalServer server, VirtPortal.Databases.Tests.PostgresServer postgres, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(postgres);
        var secrets = server.Services.GetRequiredService<VirtPortal.Core.Databases.DatabaseServerSecrets>();
        var factory = server.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<VirtPortal.Core.Data.PortalDbContext>>();
        await using var db = await factory.CreateDbContextAsync(ct);
        var registered = new VirtPortal.Core.Databases.DatabaseServer
        {
            Id = Guid.NewGuid(), Name = "e2e-postgres", Engine = VirtPortal.Core.Catalog.DatabaseEngineKind.PostgreSql,
            ProtectedAdminConnection = secrets.Protect(postgres.AdminConnectionString),
            Endpoint = VirtPortal.Core.Databases.DatabaseServerSecrets.Describe(postgres.AdminConnectionString),
            State = VirtPortal.Core.Databases.DatabaseServerState.Online, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.DatabaseServers.Add(registered);
        await db.SaveChangesAsync(ct);
        return registered.Id;
    }

    /// <summary>Waits (up to 15 s) for the tenant's one request to arrive and approves it, unless its policy already did.</summary>
    public static async Task ApproveTheRequestAsync(this PortalServer server, Guid tenantId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        var requests = server.Services.GetRequiredService<RequestQueries>();
        for (var waited = 0; waited < 150 && (await requests.ListForTenantAsync(Admin, tenantId, ct)).Count == 0; waited++)
            await Task.Delay(100, ct);
        var request = Assert.Single(await requests.ListForTenantAsync(Admin, tenantId, ct));
        if (request.State == RequestState.PendingApproval)
            await server.Services.GetRequiredService<RequestDecisions>().ApproveAsync(Admin, request.Id, ct);
    }
}
