using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Hosts;

namespace VirtPortal.Web.Api;

/// <summary>Whether a host or database server is in maintenance: it keeps what it runs and gets nothing new.</summary>
public sealed record MaintenanceBody([property: Description("true to start maintenance, false to end it (the portal then asks the host again).")] bool Maintenance);

/// <summary>Hypervisor hosts, as the admins' hosts page manages them: list, one, add, change, test, maintenance, remove.</summary>
public static class HostsApi
{
    /// <summary>What a read of one says about its ETag.</summary>
    internal const string Versioned = " The ETag is the version of its settings (what admins set), for If-Match on their changes; its state and facts move without it.";

    /// <summary>What a versioned change says about If-Match.</summary>
    internal const string IfMatch = " With If-Match, only at that version of its settings (412 otherwise).";

    public static RouteGroupBuilder MapHostsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/hosts").WithTags("Hosts").WithMetadata(new ApiSubject("host"));
        group.MapGet("/", ListAsync).WithName("ListHosts").WithSummary("List the hypervisor hosts")
            .WithDescription("Admins only. With their capacity, what is allocated on them and their state.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.HostView));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetHost").WithSummary("Get a hypervisor host").WithDescription("Admins only." + Versioned)
            .WithExamples(response: ApiExamples.HostView);
        group.MapPost("/", AddAsync).WithName("AddHost").WithSummary("Add a hypervisor host")
            .WithDescription("Admins only. The portal connects to it first and reads its CPUs, memory and storage; a host that does not answer is refused with why.")
            .WithExamples(ApiExamples.HostInput, ApiExamples.HostView);
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateHost").WithSummary("Change a hypervisor host")
            .WithDescription("Admins only. The whole form: name, driver, URI, domain type and overcommit." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(ApiExamples.HostInput, ApiExamples.HostView);
        group.MapPost("/test", TestDraftAsync).WithName("TestNewHost").WithSummary("Test a connection to a host before adding it")
            .WithDescription("Admins only. Nothing is saved; the answer has the host's facts or its own words for why not.")
            .WithExamples(ApiExamples.HostInput, ApiExamples.HostTest);
        group.MapPost("/{id:guid}/test", TestAsync).WithName("TestHost").WithSummary("Test the connection to a host")
            .WithDescription("Admins only.").WithExamples(response: ApiExamples.HostTest);
        group.MapPut("/{id:guid}/maintenance", SetMaintenanceAsync).WithName("SetHostMaintenance").WithSummary("Start or end a host's maintenance")
            .WithDescription("Admins only. In maintenance a host runs what it has and gets no new VMs." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(new MaintenanceBody(true), ApiExamples.HostView with { State = HostState.Maintenance });
        group.MapDelete("/{id:guid}", RemoveAsync).WithName("RemoveHost").WithSummary("Remove a hypervisor host")
            .WithDescription("Admins only, and only once no live VM is placed on it.");
        return group;
    }

    private static async Task<Ok<ApiPage<HostView>>> ListAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, HostService hosts, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await hosts.ListAsync(user.Actor(), ct), page.ToRequest(), h => h.Id)));

    private static async Task<Ok<HostView>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, HostService hosts, CancellationToken ct) =>
        ApiVersions.Tagged(response, await FindAsync(user, id, hosts, ct), h => h.SettingsVersion);

    private static async Task<Created<HostView>> AddAsync(HostInput body, ClaimsPrincipal user, HttpResponse response, HostService hosts, CancellationToken ct)
    {
        var host = await hosts.AddAsync(user.Actor(), body, ct);
        return ApiVersions.Created(response, PortalApi.Path($"/hosts/{host.Id}"), host, h => h.SettingsVersion);
    }

    private static async Task<Ok<HostView>> UpdateAsync(Guid id, HostInput body, ClaimsPrincipal user, HttpRequest request, HostService hosts, CancellationToken ct) =>
        ApiVersions.Tagged(request.HttpContext.Response, await hosts.UpdateAsync(user.Actor(), id, body, ApiVersions.Expected(request), ct), h => h.SettingsVersion);

    private static async Task<Ok<ConnectionTest>> TestDraftAsync(HostInput body, ClaimsPrincipal user, HostService hosts, CancellationToken ct) =>
        TypedResults.Ok(await hosts.TestDraftAsync(user.Actor(), body, ct));

    private static async Task<Ok<ConnectionTest>> TestAsync(Guid id, ClaimsPrincipal user, HostService hosts, CancellationToken ct) =>
        TypedResults.Ok(await hosts.TestAsync(user.Actor(), id, ct));

    private static async Task<Ok<HostView>> SetMaintenanceAsync(Guid id, MaintenanceBody body, ClaimsPrincipal user, HttpRequest request, HostService hosts, CancellationToken ct)
    {
        await hosts.SetMaintenanceAsync(user.Actor(), id, body.Maintenance, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await FindAsync(user, id, hosts, ct), h => h.SettingsVersion);
    }

    private static async Task<NoContent> RemoveAsync(Guid id, ClaimsPrincipal user, HostService hosts, CancellationToken ct)
    {
        await hosts.RemoveAsync(user.Actor(), id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<HostView> FindAsync(ClaimsPrincipal user, Guid id, HostService hosts, CancellationToken ct) =>
        (await hosts.ListAsync(user.Actor(), ct)).FirstOrDefault(h => h.Id == id) ?? throw new PortalNotFoundException("That host is no longer registered.");
}
