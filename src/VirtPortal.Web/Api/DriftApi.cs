using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Reconciliation;

namespace VirtPortal.Web.Api;

/// <summary>The tenant an unknown domain is adopted into.</summary>
public sealed record AdoptBody([property: Description("The tenant that gets the VM (its quota counts it).")] Guid TenantId);

/// <summary>
/// Drift between the portal and its hosts, as the admins' drift inbox settles it: accept the host's state,
/// restore the portal's, or adopt an unknown domain into a tenant. The portal never settles it on its own.
/// </summary>
public static class DriftApi
{
    public static RouteGroupBuilder MapDriftApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/drift").WithTags("Drift").WithMetadata(new ApiSubject("drift"));
        group.MapGet("/", ListAsync).WithName("ListDrift").WithSummary("List the open drift")
            .WithDescription("Admins only. Newest first; each says what the portal believes and what the host reports.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.DriftView));
        group.MapPost("/{id:long}/accept", AcceptAsync).WithName("AcceptDrift").WithSummary("Accept the host's state")
            .WithDescription("Admins only. The portal's record takes what the host reports (a vanished VM becomes Deleted).")
            .WithExamples(response: ApiExamples.DriftSettled);
        group.MapPost("/{id:long}/restore", RestoreAsync).WithName("RestoreDrift").WithSummary("Restore the portal's state")
            .WithDescription("Admins only. The host is brought back to what the portal wants, as an operation (a database made again).")
            .WithExamples(response: ApiExamples.DriftSettled);
        group.MapPost("/{id:long}/adopt", AdoptAsync).WithName("AdoptDrift").WithSummary("Adopt an unknown domain into a tenant")
            .WithDescription("Admins only. The domain becomes a VM of the tenant.")
            .WithExamples(new AdoptBody(ApiExamples.TenantId), ApiExamples.DriftSettled);
        return group;
    }

    private static async Task<Ok<ApiPage<DriftView>>> ListAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, DriftService drift, CancellationToken ct)
    {
        var (after, limit) = page.ToNumberedRequest();
        var rows = (await drift.ListOpenAsync(user.Actor(), ct)).OrderByDescending(d => d.Id).Where(d => after is null || d.Id < after).Take(limit + 1).ToList();
        return TypedResults.Ok(rows.Count > limit ? PageQuery.Answer([.. rows.Take(limit)], rows[limit - 1].Id) : PageQuery.Answer(rows, null));
    }

    private static Task<Ok<ApiPage<DriftView>>> AcceptAsync(long id, ClaimsPrincipal user, DriftService drift, CancellationToken ct) =>
        SettleAsync(user, drift, actor => drift.AcceptAsync(actor, id, ct), ct);

    private static Task<Ok<ApiPage<DriftView>>> RestoreAsync(long id, ClaimsPrincipal user, DriftService drift, CancellationToken ct) =>
        SettleAsync(user, drift, actor => drift.RestoreAsync(actor, id, ct), ct);

    private static Task<Ok<ApiPage<DriftView>>> AdoptAsync(long id, AdoptBody body, ClaimsPrincipal user, DriftService drift, CancellationToken ct) =>
        SettleAsync(user, drift, actor => drift.AdoptAsync(actor, id, body.TenantId, ct), ct);

    /// <summary>Settles it and answers the first page of what is still open, as the inbox shows after a click.</summary>
    private static async Task<Ok<ApiPage<DriftView>>> SettleAsync(ClaimsPrincipal user, DriftService drift, Func<Core.Users.Actor, Task> settle, CancellationToken ct)
    {
        var actor = user.Actor();
        await settle(actor);
        var open = (await drift.ListOpenAsync(actor, ct)).OrderByDescending(d => d.Id).ToList();
        var limit = PageRequest.DefaultLimit;
        return TypedResults.Ok(open.Count > limit ? PageQuery.Answer([.. open.Take(limit)], open[limit - 1].Id) : PageQuery.Answer(open, null));
    }
}
