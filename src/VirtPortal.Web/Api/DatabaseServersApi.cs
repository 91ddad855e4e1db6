using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Databases;

namespace VirtPortal.Web.Api;

/// <summary>
/// Database servers, as the admins' database servers page manages them: list, one, add, change, test,
/// maintenance, remove. Their admin connections are taken, never shown back.
/// </summary>
public static class DatabaseServersApi
{
    public static RouteGroupBuilder MapDatabaseServersApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/database-servers").WithTags("Database servers").WithMetadata(new ApiSubject("database server"));
        group.MapGet("/", ListAsync).WithName("ListDatabaseServers").WithSummary("List the database servers")
            .WithDescription("Admins only. With their limits, what is placed on them and their state; never their admin connections.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.DatabaseServerView));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetDatabaseServer").WithSummary("Get a database server").WithDescription("Admins only." + HostsApi.Versioned)
            .WithExamples(response: ApiExamples.DatabaseServerView);
        group.MapPost("/", AddAsync).WithName("AddDatabaseServer").WithSummary("Add a PostgreSQL server")
            .WithDescription("Admins only. The portal connects with the admin connection first; a server that does not answer, or cannot make databases, is refused with why.")
            .WithExamples(ApiExamples.DatabaseServerInput, ApiExamples.DatabaseServerView);
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateDatabaseServer").WithSummary("Change a database server")
            .WithDescription("Admins only. The whole form; an empty adminConnection keeps the one the portal has." + HostsApi.IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(ApiExamples.DatabaseServerInput with { AdminConnection = "" }, ApiExamples.DatabaseServerView);
        group.MapPost("/test", TestDraftAsync).WithName("TestNewDatabaseServer").WithSummary("Test a database server before adding it")
            .WithDescription("Admins only. Nothing is saved.").WithExamples(ApiExamples.DatabaseServerInput, ApiExamples.DatabaseServerTest);
        group.MapPost("/{id:guid}/test", TestAsync).WithName("TestDatabaseServer").WithSummary("Test the connection to a database server")
            .WithDescription("Admins only.").WithExamples(response: ApiExamples.DatabaseServerTest);
        group.MapPut("/{id:guid}/maintenance", SetMaintenanceAsync).WithName("SetDatabaseServerMaintenance").WithSummary("Start or end a database server's maintenance")
            .WithDescription("Admins only. In maintenance a server keeps its databases and gets no new ones." + HostsApi.IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(new MaintenanceBody(true), ApiExamples.DatabaseServerView with { State = DatabaseServerState.Maintenance });
        group.MapDelete("/{id:guid}", RemoveAsync).WithName("RemoveDatabaseServer").WithSummary("Remove a database server")
            .WithDescription("Admins only, and only once no live database is placed on it; the embedded server stays.");
        return group;
    }

    private static async Task<Ok<ApiPage<DatabaseServerView>>> ListAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, DatabaseServerService servers, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await servers.ListAsync(user.Actor(), ct), page.ToRequest(), s => s.Id)));

    private static async Task<Ok<DatabaseServerView>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, DatabaseServerService servers, CancellationToken ct) =>
        ApiVersions.Tagged(response, await FindAsync(user, id, servers, ct), s => s.SettingsVersion);

    private static async Task<Created<DatabaseServerView>> AddAsync(DatabaseServerInput body, ClaimsPrincipal user, HttpResponse response, DatabaseServerService servers, CancellationToken ct)
    {
        var server = await servers.AddAsync(user.Actor(), body, ct);
        return ApiVersions.Created(response, PortalApi.Path($"/database-servers/{server.Id}"), server, s => s.SettingsVersion);
    }

    private static async Task<Ok<DatabaseServerView>> UpdateAsync(
        Guid id, DatabaseServerInput body, ClaimsPrincipal user, HttpRequest request, DatabaseServerService servers, CancellationToken ct) =>
        ApiVersions.Tagged(request.HttpContext.Response, await servers.UpdateAsync(user.Actor(), id, body, ApiVersions.Expected(request), ct), s => s.SettingsVersion);

    private static async Task<Ok<DatabaseServerTest>> TestDraftAsync(DatabaseServerInput body, ClaimsPrincipal user, DatabaseServerService servers, CancellationToken ct) =>
        TypedResults.Ok(await servers.TestDraftAsync(user.Actor(), body, ct));

    private static async Task<Ok<DatabaseServerTest>> TestAsync(Guid id, ClaimsPrincipal user, DatabaseServerService servers, CancellationToken ct) =>
        TypedResults.Ok(await servers.TestAsync(user.Actor(), id, ct));

    private static async Task<Ok<DatabaseServerView>> SetMaintenanceAsync(
        Guid id, MaintenanceBody body, ClaimsPrincipal user, HttpRequest request, DatabaseServerService servers, CancellationToken ct)
    {
        await servers.SetMaintenanceAsync(user.Actor(), id, body.Maintenance, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await FindAsync(user, id, servers, ct), s => s.SettingsVersion);
    }

    private static async Task<NoContent> RemoveAsync(Guid id, ClaimsPrincipal user, DatabaseServerService servers, CancellationToken ct)
    {
        await servers.RemoveAsync(user.Actor(), id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<DatabaseServerView> FindAsync(ClaimsPrincipal user, Guid id, DatabaseServerService servers, CancellationToken ct) =>
        (await servers.ListAsync(user.Actor(), ct)).FirstOrDefault(s => s.Id == id) ?? throw new PortalNotFoundException("That database server is no longer registered.");
}
