using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Web.Hubs;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Console;

/// <summary>
/// <c>POST /console/{id}/ticket</c>: the same <see cref="ConsoleOffer"/> the VM page gets from
/// <see cref="ConsoleTickets.OfferAsync"/>, for a script or a page's reconnect. The ticket travels in the
/// response body (not a URL), marked not to be stored; a foreign Origin is refused as at the websocket.
/// Cross-site pages cannot read the answer, and the sign-in cookie (SameSite=Lax) is not sent with their POSTs.
/// </summary>
public static class ConsoleTicketEndpoint
{
    public const string Route = "/console/{resourceId:guid}/ticket";

    public static async Task<Results<Ok<ConsoleOffer>, ProblemHttpResult>> PostAsync(
        Guid resourceId, HttpContext context, ConsoleTickets tickets, TrustedOrigins origins, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tickets);
        ArgumentNullException.ThrowIfNull(origins);
        context.Response.Headers.CacheControl = "no-store";
        if (ActorAccessor.FromPrincipal(context.User) is null)
            return TypedResults.Problem("Sign in first.", statusCode: StatusCodes.Status401Unauthorized);
        if (!origins.Allows(context.Request, out _))
            return TypedResults.Problem("This page may not open the portal's consoles.", statusCode: StatusCodes.Status403Forbidden);
        try
        {
            return TypedResults.Ok(await tickets.OfferAsync(context.User, resourceId, ct));
        }
        catch (PortalAccessDeniedException e)
        {
            // Unknown and forbidden VMs look alike (the refusal is audited by the access service).
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status403Forbidden);
        }
    }
}
