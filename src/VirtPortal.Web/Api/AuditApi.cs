using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Audit;

namespace VirtPortal.Web.Api;

/// <summary>One entry of the audit log, as the audit page shows it.</summary>
public sealed record AuditEntryView(long Id, DateTimeOffset At, string ActorId, string ActorName, string Action, Guid? TenantId, string Target, string Details)
{
    public static AuditEntryView Of(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new(entry.Id, entry.At, entry.ActorId, entry.ActorName, entry.Action, entry.TenantId, entry.Target, entry.Details);
    }
}

/// <summary>The audit page's filters, and the page.</summary>
public sealed record AuditQuery(
    [property: Description("Only this tenant's entries (refused, as unknown, outside what you may read).")] Guid? TenantId = null,
    [property: Description("Part of the actor's name, ignoring case.")] string? Actor = null,
    [property: Description("An action name exactly, such as resource.action or tenant.created.")] string? Action = null,
    [property: Description("Part of the target, ignoring case (\"VM build-agent\").")] string? Target = null,
    [property: Description("From this time on (inclusive).")] DateTimeOffset? From = null,
    [property: Description("Before this time (exclusive).")] DateTimeOffset? To = null,
    [property: Description("The previous page's nextCursor; leave it out for the first page.")] string? Cursor = null,
    [property: Description("How many entries at most, 1 to 200 (50 when left out).")] int? Limit = null);

/// <summary>The audit log, as its page filters it: admins and helpdesk read all of it, owners their active tenants' entries.</summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/audit").WithTags("Audit").WithMetadata(new ApiSubject("tenant"));
        group.MapGet("/", ListAsync).WithName("ListAuditEntries")
            .WithSummary("List audit entries")
            .WithDescription("Newest first by id, so pages do not shift as entries are written; filtered by tenant, actor, action, target and time. "
                + "Admins and helpdesk read every entry, tenant owners their tenants' (a token limited to a tenant, that tenant's).")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.AuditEntry));
        return group;
    }

    private static async Task<Ok<ApiPage<AuditEntryView>>> ListAsync([AsParameters] AuditQuery query, ClaimsPrincipal user, AuditQueries audit, CancellationToken ct)
    {
        var (after, limit) = new PageQuery(query.Cursor, query.Limit).ToNumberedRequest();
        var filter = new AuditFilter(query.TenantId, query.Actor, query.Action, query.From, query.To, Target: query.Target);
        var slice = await audit.PageAsync(user.Actor(), filter, after, limit, ct);
        return TypedResults.Ok(PageQuery.Answer([.. slice.Entries.Select(AuditEntryView.Of)], slice.Next));
    }
}
