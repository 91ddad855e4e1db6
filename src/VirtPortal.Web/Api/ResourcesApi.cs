using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;

namespace VirtPortal.Web.Api;

/// <summary>Deleting asks for the resource's name, as the UI's dialog does.</summary>
public sealed record DeleteBody([property: Description("The resource's name, to confirm.")] string ConfirmName);

/// <summary>
/// Resources (VMs and databases): the list, one with the state its host observed and its recent operations,
/// and every lifecycle action, each queued as an operation: 202 Accepted and a Location to poll.
/// </summary>
public static class ResourcesApi
{
    public static RouteGroupBuilder MapResourcesApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/resources").WithTags("Resources").WithMetadata(new ApiSubject("resource"));
        group.MapGet("/", ListAsync).WithName("ListResources").WithMetadata(new ApiSubject("tenant"))
            .WithSummary("List the resources you may see")
            .WithDescription("Live VMs and databases, newest first: every tenant's for staff, your tenants' for members (one tenant's for a token limited to it), or the tenant named by tenantId.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.WallRow));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetResource")
            .WithSummary("Get a resource with its observed state")
            .WithDescription("state is what its host shows (wantedState the portal's), confirmedAt when the host last confirmed it, difference why they part; with its recent operations. The ETag is its version, for If-Match on actions.")
            .WithExamples(response: ApiExamples.ResourceDetails);
        foreach (var action in ResourceLifecycle.UserActions)
        {
            var endpoint = action == OperationKind.Delete
                ? group.MapPost("/{id:guid}/delete", (Guid id, DeleteBody body, ClaimsPrincipal user, HttpRequest request, ResourceActions actions, ResourceDetailsQueries details, CancellationToken ct) =>
                    ActAsync(id, action, body.ConfirmName, user, request, actions, details, ct))
                : group.MapPost($"/{{id:guid}}/{Slug(action)}", (Guid id, ClaimsPrincipal user, HttpRequest request, ResourceActions actions, ResourceDetailsQueries details, CancellationToken ct) =>
                    ActAsync(id, action, null, user, request, actions, details, ct));
            endpoint.WithName($"{action}Resource").WithSummary($"{ResourceLifecycle.Label(action)} ({Slug(action)})").WithDescription(Describe(action)
                + " Answers 202 with the queued operation and its Location; with If-Match, only while the resource is at that version (412 otherwise).")
                .WithMetadata(VersionedChange.Instance)
                .WithExamples(action == OperationKind.Delete ? ApiExamples.DeleteBody : null, ApiExamples.OperationView with { Kind = action });
        }

        return group;
    }

    /// <summary>The action's path segment: its name in kebab case (ForceOff → force-off).</summary>
    public static string Slug(OperationKind action) =>
        string.Concat(action.ToString().Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    private static async Task<Ok<ApiPage<WallRow>>> ListAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, Guid? tenantId, ResourceQueries queries, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(await queries.PageAsync(user.Actor(), tenantId, page.ToRequest(), ct)));

    private static async Task<Ok<ResourceDetails>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, ResourceDetailsQueries queries, CancellationToken ct)
    {
        var details = await queries.GetAsync(user.Actor(), id, ct);
        ApiVersions.Tag(response, details.Summary.Version);
        return TypedResults.Ok(details);
    }

    private static async Task<Accepted<ResourceOperationView>> ActAsync(
        Guid id, OperationKind action, string? confirmName, ClaimsPrincipal user, HttpRequest request, ResourceActions actions, ResourceDetailsQueries details, CancellationToken ct)
    {
        var actor = user.Actor();
        var operationId = await actions.RequestAsync(actor, id, action, confirmName, ApiVersions.Expected(request), ct);
        return TypedResults.Accepted(OperationsApi.Location(operationId), await details.GetOperationAsync(actor, operationId, ct));
    }

    private static string Describe(OperationKind action) => action switch
    {
        OperationKind.Start => "Starts a VM that is shut off.",
        OperationKind.Shutdown => "Asks the guest to shut down, like pressing the power button.",
        OperationKind.ForceOff => "Stops the VM at once, like pulling the plug.",
        OperationKind.Reboot => "Asks the guest to restart.",
        OperationKind.Suspend => "Pauses a running VM.",
        OperationKind.Resume => "Resumes a paused VM.",
        OperationKind.Delete => "Deletes the resource; the body confirms its name.",
        OperationKind.RotatePassword => "Gives a PostgreSQL database's owner a new password, revealed once on the database's page.",
        OperationKind.Backup => "Writes a backup of a database.",
        _ => ResourceLifecycle.Label(action) + ".",
    };
}
