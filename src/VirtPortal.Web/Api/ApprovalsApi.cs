using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Requests;

namespace VirtPortal.Web.Api;

/// <summary>Why a request is rejected; its requester reads it.</summary>
public sealed record RejectBody([property: Description("Why, in words the requester reads (at most 1000 characters).")] string Reason);

/// <summary>The requests to approve, each on its own: one refusal does not stop the others.</summary>
public sealed record BulkApproveBody([property: Description("1 to 100 request ids.")] IReadOnlyList<Guid> RequestIds);

/// <summary>Approvals: the inbox of what the caller may decide now, approve, reject with a reason, approve in bulk.</summary>
public static class ApprovalsApi
{
    public const int BulkLimit = 100;

    public static RouteGroupBuilder MapApprovalsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/approvals").WithTags("Approvals").WithMetadata(new ApiSubject("request"));
        group.MapGet("/", InboxAsync).WithName("ListApprovals")
            .WithSummary("List the requests waiting for your decision")
            .WithDescription("Each with the facts as they would stand after approval: quota, policy verdict, cost. Newest first, by id, like every list.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.InboxItem));
        group.MapPost("/{id:guid}/approve", ApproveAsync).WithName("ApproveRequest")
            .WithSummary("Approve a request at its current stage").WithDescription("With If-Match, only while the request is at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance).WithExamples(response: ApiExamples.RequestDetails);
        group.MapPost("/{id:guid}/reject", RejectAsync).WithName("RejectRequest")
            .WithSummary("Reject a request with a reason").WithDescription("With If-Match, only while the request is at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance).WithExamples(ApiExamples.RejectBody, ApiExamples.RequestDetails);
        group.MapPost("/bulk-approve", BulkApproveAsync).WithName("BulkApproveRequests")
            .WithSummary("Approve several requests").WithDescription("Each request is approved on its own; the answer says, per request, whether it was approved or why not.")
            .WithExamples(ApiExamples.BulkApproveBody, ApiExamples.BulkOutcomes);
        return group;
    }

    private static async Task<Ok<ApiPage<InboxItem>>> InboxAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, RequestQueries queries, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await queries.InboxAsync(user.Actor(), ct), page.ToRequest(), i => i.Request.Id)));

    private static async Task<Ok<RequestDetails>> ApproveAsync(
        Guid id, ClaimsPrincipal user, HttpRequest request, RequestDecisions decisions, RequestQueries queries, CancellationToken ct)
    {
        var actor = user.Actor();
        await decisions.ApproveAsync(actor, id, ApiVersions.Expected(request), ct);
        return RequestsApi.Tagged(request.HttpContext.Response, await queries.GetAsync(actor, id, ct));
    }

    private static async Task<Ok<RequestDetails>> RejectAsync(
        Guid id, RejectBody body, ClaimsPrincipal user, HttpRequest request, RequestDecisions decisions, RequestQueries queries, CancellationToken ct)
    {
        var actor = user.Actor();
        await decisions.RejectAsync(actor, id, body.Reason ?? "", ApiVersions.Expected(request), ct);
        return RequestsApi.Tagged(request.HttpContext.Response, await queries.GetAsync(actor, id, ct));
    }

    private static async Task<Ok<IReadOnlyList<BulkOutcome>>> BulkApproveAsync(BulkApproveBody body, ClaimsPrincipal user, RequestDecisions decisions, CancellationToken ct)
    {
        if (body.RequestIds is not { Count: > 0 and <= BulkLimit } ids)
            throw new PortalValidationException(nameof(BulkApproveBody.RequestIds), $"Name 1 to {BulkLimit} requests.");
        return TypedResults.Ok(await decisions.BulkApproveAsync(user.Actor(), [.. ids], ct));
    }
}
