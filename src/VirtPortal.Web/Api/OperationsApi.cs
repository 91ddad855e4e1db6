using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;

namespace VirtPortal.Web.Api;

/// <summary>Operations: what a long action (202 Accepted) answers the Location of, to poll until it succeeds or fails.</summary>
public static class OperationsApi
{
    public static RouteGroupBuilder MapOperationsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/operations").WithTags("Operations").WithMetadata(new ApiSubject("operation"));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetOperation")
            .WithSummary("Get an operation's progress")
            .WithDescription("state is Pending, Running, Succeeded or Failed; a failure says why in error (and, for admins and helpdesk, in the host's own words). The live hub pushes the resource's changes as well.")
            .WithExamples(response: ApiExamples.OperationView with { State = OperationState.Succeeded, Attempts = 1 });
        return group;
    }

    public static string Location(Guid operationId) => PortalApi.Path($"/operations/{operationId}");

    private static async Task<Ok<ResourceOperationView>> GetAsync(Guid id, ClaimsPrincipal user, ResourceDetailsQueries queries, CancellationToken ct) =>
        TypedResults.Ok(await queries.GetOperationAsync(user.Actor(), id, ct));
}
