using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Web.Console;

namespace VirtPortal.Web.Api;

/// <summary>
/// What a script needs to open a VM's console websocket: the URL, the subprotocols to offer (<c>binary</c> and
/// <c>vp-ticket.{ticket}</c>) and whether the proxy will drop its input. The websocket request carries the same
/// API token in its Authorization header: the ticket is bound to it.
/// </summary>
public sealed record ConsoleTicket(
    [property: Description("Single use, until expiresAt.")] string Ticket,
    DateTimeOffset ExpiresAt,
    [property: Description("True when the proxy drops keyboard, mouse and clipboard input: the caller may only watch.")] bool ViewOnly,
    [property: Description("The console websocket to open, with the same Authorization header.")] string WebSocketUrl,
    [property: Description("Offer all of these subprotocols; the proxy answers binary.")] IReadOnlyList<string> Subprotocols);

/// <summary>
/// The VM console for scripts: a ticket from <see cref="ConsoleTickets"/> (the VM page's, with its access checks,
/// view-only rule and per-user session limit) for the proxy at <see cref="ConsoleProxy.Route"/>, which accepts the
/// API token that took it. docs/decisions/0011-console-proxy.md.
/// </summary>
public static class ConsoleApi
{
    public static RouteGroupBuilder MapConsoleApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/resources").WithTags("Console").WithMetadata(new ApiSubject("resource"));
        group.MapPost("/{id:guid}/console-ticket", TicketAsync).WithName("CreateConsoleTicket")
            .WithSummary("Take a ticket to open a VM's console")
            .WithDescription("Open webSocketUrl within a minute with the same Authorization header, offering every one of subprotocols; the proxy relays RFB (VNC). "
                + "Members and admins get full control, staff who may only view (and read-only tokens) a view-only console. "
                + "409 when the VM has no console now (not running, on the simulated host) or you have the most console sessions open already.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExamples(response: ApiExamples.ConsoleTicket);
        return group;
    }

    private static async Task<Results<Ok<ConsoleTicket>, ProblemHttpResult>> TicketAsync(
        Guid id, ClaimsPrincipal user, HttpContext context, ConsoleTickets tickets, CancellationToken ct)
    {
        context.Response.Headers.CacheControl = "no-store";
        var offer = await tickets.OfferAsync(user, id, ct);
        if (offer is not { Ticket: { } ticket, ExpiresAt: { } expiresAt })
            return TypedResults.Problem(offer.Unavailable, statusCode: StatusCodes.Status409Conflict);
        var request = context.Request;
        var url = $"{(request.IsHttps ? "wss" : "ws")}://{request.Host}{request.PathBase}/console/{id}";
        return TypedResults.Ok(new ConsoleTicket(ticket, expiresAt, offer.ViewOnly, url, [ConsoleProxy.Subprotocol, ConsoleTickets.SubprotocolPrefix + ticket]));
    }
}
