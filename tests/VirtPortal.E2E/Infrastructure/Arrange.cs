using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Data;
using VirtPortal.Core.Databases;
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

    /// <summary>
    /// Registers <paramref name="adminConnectionString"/>'s server as the portal's PostgreSQL server, as the
    /// admin page would (its connection protected at rest), unless a server of that name is there already.
    /// </summary>
    public static async Task RegisterPostgresAsync(this PortalServer server, string name, string adminConnectionString, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        if (await db.DatabaseServers.AnyAsync(s => s.Name == name, ct))
            return;
        var now = DateTimeOffset.UtcNow;
        db.DatabaseServers.Add(new DatabaseServer
        {
            Id = Guid.CreateVersion7(now), Name = name, Engine = DatabaseEngineKind.PostgreSql,
            ProtectedAdminConnection = server.Services.GetRequiredService<DatabaseServerSecrets>().Protect(adminConnectionString),
            Endpoint = DatabaseServerSecrets.Describe(adminConnectionString), State = DatabaseServerState.Online, CreatedAt = now, LastSeenAt = now,
        });
        await db.SaveChangesAsync(ct);
    }
}
