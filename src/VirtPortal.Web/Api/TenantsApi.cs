using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Common;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Web.Api;

/// <summary>A tenant as the tenant form has it: its name, description and quota.</summary>
public sealed record TenantBody(
    [property: Description("2 to 64 characters, unique.")] string Name,
    [property: Description("At most 500 characters.")] string? Description,
    [property: Description("What the tenant's resources may add up to.")] TenantQuota? Quota);

/// <summary>Someone to add to a tenant: an existing account's email, and their role.</summary>
public sealed record NewMemberBody([property: Description("The email of an existing account.")] string Email, TenantRole Role = TenantRole.Member);

/// <summary>A member's new role.</summary>
public sealed record MemberRoleBody(TenantRole Role);

/// <summary>
/// Tenants, as the tenant pages manage them: the list and one tenant with its members; for admins creating,
/// editing (name, description, quota), archiving and restoring, and the approval policy; for admins and the
/// tenant's owners its members. Tenants and policies carry no version yet, so their changes take no If-Match.
/// </summary>
public static class TenantsApi
{
    private static readonly string[] QuotaFields =
        [nameof(TenantQuota.VCpus), nameof(TenantQuota.RamMiB), nameof(TenantQuota.DiskGiB), nameof(TenantQuota.Vms), nameof(TenantQuota.Databases)];

    public static RouteGroupBuilder MapTenantsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/tenants").WithTags("Tenants").WithMetadata(new ApiSubject("tenant"));
        group.MapGet("/", ListAsync).WithName("ListTenants")
            .WithSummary("List the tenants you may see")
            .WithDescription("Every tenant for staff, yours for members (one tenant's for a token limited to it), newest first; archived ones with includeArchived=true.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.TenantSummary));
        group.MapGet("/{id:guid}", GetAsync).WithName("GetTenant").WithSummary("Get a tenant with its quota and members")
            .WithDescription("The ETag is the tenant's version (its settings and approval policy), for If-Match on changes.")
            .WithExamples(response: ApiExamples.TenantDetails);
        group.MapPost("/", CreateAsync).WithName("CreateTenant").WithSummary("Create a tenant")
            .WithDescription("Admins only. Answers 201 with the tenant and its Location; it has no members until one is added.")
            .WithExamples(ApiExamples.TenantBody, ApiExamples.TenantDetails);
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateTenant").WithSummary("Rename a tenant, or change its description or quota")
            .WithDescription("Admins only. The whole form: name, description and quota. A quota below what the tenant uses stops new requests, not its resources. With If-Match, only at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance)
            .WithExamples(ApiExamples.TenantBody, ApiExamples.TenantDetails);
        group.MapPost("/{id:guid}/archive", ArchiveAsync).WithName("ArchiveTenant").WithSummary("Archive a tenant")
            .WithDescription("Admins only. Its members can no longer see it or request for it; its resources stay. With If-Match, only at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance)
            .WithExamples(response: ApiExamples.TenantDetails);
        group.MapPost("/{id:guid}/restore", RestoreAsync).WithName("RestoreTenant").WithSummary("Restore an archived tenant")
            .WithDescription("Admins only. With If-Match, only at that version (412 otherwise).").WithMetadata(VersionedChange.Instance)
            .WithExamples(response: ApiExamples.TenantDetails);
        group.MapGet("/{id:guid}/policy", GetPolicyAsync).WithName("GetTenantPolicy").WithSummary("Get a tenant's approval policy")
            .WithDescription("What the policy approves at once, and the approval stages the rest goes through. The ETag is the tenant's version, for If-Match on PUT.")
            .WithExamples(response: ApiExamples.Policy);
        group.MapPut("/{id:guid}/policy", SavePolicyAsync).WithName("UpdateTenantPolicy").WithSummary("Set a tenant's approval policy")
            .WithDescription("Admins only. Named approvers are user ids of approvers or admins. It decides requests submitted from now on. With If-Match, only while the tenant is at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance)
            .WithExamples(ApiExamples.Policy, ApiExamples.Policy);
        group.MapPost("/{id:guid}/members", AddMemberAsync).WithName("AddTenantMember").WithSummary("Add a member to a tenant")
            .WithDescription("Admins and the tenant's owners. The account must exist (an admin creates it with POST /users).")
            .WithExamples(ApiExamples.NewMemberBody, ApiExamples.TenantDetails);
        group.MapPut("/{id:guid}/members/{userId}", ChangeMemberRoleAsync).WithName("ChangeTenantMemberRole").WithSummary("Change a member's role")
            .WithDescription("Admins and the tenant's owners; a tenant keeps at least one owner.")
            .WithExamples(new MemberRoleBody(TenantRole.Owner), ApiExamples.TenantDetails);
        group.MapDelete("/{id:guid}/members/{userId}", RemoveMemberAsync).WithName("RemoveTenantMember").WithSummary("Remove a member from a tenant")
            .WithDescription("Admins and the tenant's owners; a tenant keeps at least one owner.");
        return group;
    }

    private static async Task<Ok<ApiPage<TenantSummary>>> ListAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, bool? includeArchived, TenantService tenants, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await tenants.ListVisibleAsync(user.Actor(), includeArchived ?? false, ct), page.ToRequest(), t => t.Id)));

    private static async Task<Ok<TenantDetails>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, TenantService tenants, CancellationToken ct) =>
        Tagged(response, await tenants.GetAsync(user.Actor(), id, ct));

    /// <summary>The tenant, with its version as the ETag.</summary>
    private static Ok<TenantDetails> Tagged(HttpResponse response, TenantDetails details)
    {
        ApiVersions.Tag(response, details.Tenant.Version);
        return TypedResults.Ok(details);
    }

    private static async Task<Created<TenantDetails>> CreateAsync(TenantBody body, ClaimsPrincipal user, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        var id = await QuotaFieldsAsync(() => tenants.CreateAsync(actor, body.Name ?? "", body.Description, Quota(body), ct));
        return TypedResults.Created(PortalApi.Path($"/tenants/{id}"), await tenants.GetAsync(actor, id, ct));
    }

    private static async Task<Ok<TenantDetails>> UpdateAsync(Guid id, TenantBody body, ClaimsPrincipal user, HttpRequest request, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        await QuotaFieldsAsync(async () =>
        {
            await tenants.UpdateAsync(actor, id, body.Name ?? "", body.Description, Quota(body), ApiVersions.Expected(request), ct);
            return id;
        });
        return Tagged(request.HttpContext.Response, await tenants.GetAsync(actor, id, ct));
    }

    private static Task<Ok<TenantDetails>> ArchiveAsync(Guid id, ClaimsPrincipal user, HttpRequest request, TenantService tenants, CancellationToken ct) =>
        SetArchivedAsync(id, true, user, request, tenants, ct);

    private static Task<Ok<TenantDetails>> RestoreAsync(Guid id, ClaimsPrincipal user, HttpRequest request, TenantService tenants, CancellationToken ct) =>
        SetArchivedAsync(id, false, user, request, tenants, ct);

    private static async Task<Ok<TenantDetails>> SetArchivedAsync(Guid id, bool archived, ClaimsPrincipal user, HttpRequest request, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        await tenants.SetArchivedAsync(actor, id, archived, ApiVersions.Expected(request), ct);
        return Tagged(request.HttpContext.Response, await tenants.GetAsync(actor, id, ct));
    }

    private static async Task<Ok<TenantPolicy>> GetPolicyAsync(Guid id, ClaimsPrincipal user, HttpResponse response, PolicyService policies, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        var policy = await policies.GetAsync(actor, id, ct);
        ApiVersions.Tag(response, (await tenants.GetAsync(actor, id, ct)).Tenant.Version);
        return TypedResults.Ok(policy);
    }

    private static async Task<Ok<TenantPolicy>> SavePolicyAsync(
        Guid id, TenantPolicy body, ClaimsPrincipal user, HttpRequest request, PolicyService policies, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        await policies.SaveAsync(actor, id, body, ApiVersions.Expected(request), ct);
        return await GetPolicyAsync(id, user, request.HttpContext.Response, policies, tenants, ct);
    }

    private static async Task<Ok<TenantDetails>> AddMemberAsync(Guid id, NewMemberBody body, ClaimsPrincipal user, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        await tenants.AddMemberAsync(actor, id, body.Email ?? "", body.Role, ct);
        return TypedResults.Ok(await tenants.GetAsync(actor, id, ct));
    }

    private static async Task<Ok<TenantDetails>> ChangeMemberRoleAsync(
        Guid id, string userId, MemberRoleBody body, ClaimsPrincipal user, TenantService tenants, CancellationToken ct)
    {
        var actor = user.Actor();
        await tenants.ChangeMemberRoleAsync(actor, id, userId, body.Role, ct);
        return TypedResults.Ok(await tenants.GetAsync(actor, id, ct));
    }

    private static async Task<NoContent> RemoveMemberAsync(Guid id, string userId, ClaimsPrincipal user, TenantService tenants, CancellationToken ct)
    {
        await tenants.RemoveMemberAsync(user.Actor(), id, userId, ct);
        return TypedResults.NoContent();
    }

    private static TenantQuota Quota(TenantBody body) =>
        body.Quota ?? throw new PortalValidationException(nameof(TenantBody.Quota), "Give the quota: vCpus, ramMiB, diskGiB, vms and databases.");

    /// <summary>The tenant form's quota messages are keyed by the quota's own fields; the body nests them under quota.</summary>
    private static async Task<Guid> QuotaFieldsAsync(Func<Task<Guid>> change)
    {
        try
        {
            return await change();
        }
        catch (PortalValidationException e) when (e.Errors.Keys.Any(QuotaFields.Contains))
        {
            throw new PortalValidationException(e.Errors.ToDictionary(
                error => QuotaFields.Contains(error.Key) ? $"{nameof(TenantBody.Quota)}.{error.Key}" : error.Key, error => error.Value, StringComparer.Ordinal));
        }
    }
}
