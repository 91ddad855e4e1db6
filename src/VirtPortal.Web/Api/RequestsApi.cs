using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Requests;

namespace VirtPortal.Web.Api;

/// <summary>Requests: what members ask for (any kind), its pre-flight, the list, one request with its timeline, cancelling it.</summary>
public static class RequestsApi
{
    public static RouteGroupBuilder MapRequestsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/requests").WithTags("Requests").WithMetadata(new ApiSubject("request"));
        group.MapGet("/", ListAsync).WithName("ListRequests").WithMetadata(new ApiSubject("tenant"))
            .WithSummary("List the requests you may see")
            .WithDescription("Newest first: every tenant's for staff, your tenants' for members (one tenant's for a token limited to it), or the tenant named by tenantId.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.RequestSummary));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetRequest")
            .WithSummary("Get a request with its timeline").WithDescription("The ETag is the request's version, for If-Match on cancel, approve and reject.")
            .WithExamples(response: ApiExamples.RequestDetails);
        group.MapPost("/", SubmitAsync).WithName("SubmitRequest").WithMetadata(new ApiSubject("tenant"))
            .WithSummary("Submit a request of any kind")
            .WithDescription("kind is NewVm (name, templateId, sizeId, leaseDays), NewDatabase (name, offeringId, leaseDays, restoreFromBackupId), ResizeVm (resourceId, sizeId), ExtendLease (resourceId, leaseDays) or QuotaIncrease (requestedQuota). The tenant's quota and approval policy decide as on the request form; the policy may approve it at once.")
            .WithExamples(ApiExamples.NewVm, ApiExamples.RequestDetails);
        group.MapPost("/preflight", PreflightAsync).WithName("PreflightRequest").WithMetadata(new ApiSubject("tenant"))
            .WithSummary("Check a request before submitting it")
            .WithDescription("What the request form shows beside the draft: field errors, quota before and after, the policy's verdict and the monthly cost. Nothing is saved.")
            .WithExamples(ApiExamples.NewVm, ApiExamples.Preflight);
        group.MapPost("/{id:guid}/cancel", CancelAsync).WithName("CancelRequest")
            .WithSummary("Cancel a request that is still open").WithDescription("With If-Match, only while the request is at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance).WithExamples(response: ApiExamples.RequestDetails with { CanCancel = false });
        return group;
    }

    private static async Task<Ok<ApiPage<RequestSummary>>> ListAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, Guid? tenantId, RequestQueries queries, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(await queries.PageAsync(user.Actor(), tenantId, page.ToRequest(), ct)));

    private static async Task<Ok<RequestDetails>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, RequestQueries queries, CancellationToken ct) =>
        Tagged(response, await queries.GetAsync(user.Actor(), id, ct));

    private static async Task<Created<RequestDetails>> SubmitAsync(
        RequestDraft draft, ClaimsPrincipal user, HttpResponse response, RequestDrafts drafts, RequestQueries queries, CancellationToken ct)
    {
        var actor = user.Actor();
        var id = await drafts.SubmitAsync(actor, draft, ct);
        var details = await queries.GetAsync(actor, id, ct);
        ApiVersions.Tag(response, details.Request.Version);
        return TypedResults.Created(PortalApi.Path($"/requests/{id}"), details);
    }

    private static async Task<Ok<Preflight>> PreflightAsync(RequestDraft draft, ClaimsPrincipal user, RequestDrafts drafts, CancellationToken ct) =>
        TypedResults.Ok(await drafts.PreflightAsync(user.Actor(), draft, ct));

    private static async Task<Ok<RequestDetails>> CancelAsync(
        Guid id, ClaimsPrincipal user, HttpRequest request, RequestDecisions decisions, RequestQueries queries, CancellationToken ct)
    {
        var actor = user.Actor();
        await decisions.CancelAsync(actor, id, ApiVersions.Expected(request), ct);
        return Tagged(request.HttpContext.Response, await queries.GetAsync(actor, id, ct));
    }

    /// <summary>The request, with its version as the ETag.</summary>
    internal static Ok<RequestDetails> Tagged(HttpResponse response, RequestDetails details)
    {
        ArgumentNullException.ThrowIfNull(details);
        ApiVersions.Tag(response, details.Request.Version);
        return TypedResults.Ok(details);
    }
}
