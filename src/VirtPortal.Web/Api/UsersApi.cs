using System.ComponentModel;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using VirtPortal.Core.Common;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hosting;

namespace VirtPortal.Web.Api;

/// <summary>The account's one-time set-password link, in this answer only (and mailed to the user when the portal can send mail).</summary>
public sealed record InviteAnswer(
    [property: Description("Works once and expires; pass it to the user.")] string InviteLink,
    [property: Description("Whether it was also mailed to the user.")] bool Mailed);

/// <summary>A new account, with its invite when it was made without a password.</summary>
public sealed record CreatedUserAnswer(UserDetails User, InviteAnswer? Invite);

/// <summary>The account's portal roles, all of them: Admin, Approver, Helpdesk (none for a plain member).</summary>
public sealed record RolesBody([property: Description("Admin, Approver and/or Helpdesk; empty for none.")] IReadOnlyList<string> Roles);

/// <summary>Accounts, as the admins' user pages manage them: list and search, create (with an invite link), roles, lock and unlock, a new invite.</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsersApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/users").WithTags("Users").WithMetadata(new ApiSubject("user"));
        group.MapGet("/", ListAsync).WithName("ListUsers").WithSummary("List or search the accounts")
            .WithDescription("Admins only. search matches part of the email or display name. Paged by id, like every list.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.UserSummary));
        group.MapGet("/{id}", GetAsync).WithName("GetUser").WithSummary("Get an account with its tenants")
            .WithDescription("Admins only.").WithExamples(response: ApiExamples.UserDetails);
        group.MapPost("/", CreateAsync).WithName("CreateUser").WithSummary("Create an account")
            .WithDescription("Admins only. Without a password the answer holds a one-time set-password link for the user (shown once, mailed when the portal can send mail; "
                + "no Idempotency-Key keeps it for a repeat, which is told the account exists: POST …/invite makes a new link). With tenantId, the account joins that tenant in tenantRole.")
            .WithMetadata(SecretAnswer.Instance)
            .WithExamples(ApiExamples.NewUser, ApiExamples.CreatedUser);
        group.MapPut("/{id}/roles", SetRolesAsync).WithName("SetUserRoles").WithSummary("Set an account's portal roles")
            .WithDescription("Admins only. The account's open sessions and tokens act with the new roles from their next check on.")
            .WithExamples(new RolesBody([GlobalRoles.Approver]), ApiExamples.UserDetails);
        group.MapPost("/{id}/lock", LockAsync).WithName("LockUser").WithSummary("Lock an account")
            .WithDescription("Admins only. Ends its sessions and refuses its API tokens until it is unlocked.").WithExamples(response: ApiExamples.UserDetails);
        group.MapPost("/{id}/unlock", UnlockAsync).WithName("UnlockUser").WithSummary("Unlock an account")
            .WithDescription("Admins only.").WithExamples(response: ApiExamples.UserDetails);
        group.MapPost("/{id}/invite", InviteAsync).WithName("InviteUser").WithSummary("Make a new set-password link for an account")
            .WithDescription("Admins only. Using it, or any change of password, voids the earlier links; no Idempotency-Key keeps it for a repeat, which makes another.")
            .WithMetadata(SecretAnswer.Instance).WithExamples(response: ApiExamples.Invite);
        return group;
    }

    /// <summary>The set-password page's link for the token, as the user pages show it.</summary>
    public static string InviteLink(HttpRequest request, string userId, string token)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"{request.Scheme}://{request.Host}{request.PathBase}/Account/SetPassword?user={Uri.EscapeDataString(userId)}&code={WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token))}";
    }

    private static async Task<Ok<ApiPage<UserSummary>>> ListAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, string? search, UserAdministration users, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await users.ListAsync(user.Actor(), search, ct), page.ToRequest(), u => Guid.Parse(u.Id))));

    private static async Task<Ok<UserDetails>> GetAsync(string id, ClaimsPrincipal user, UserAdministration users, CancellationToken ct) =>
        TypedResults.Ok(await users.GetAsync(user.Actor(), id, ct));

    private static async Task<Created<CreatedUserAnswer>> CreateAsync(
        NewUser body, ClaimsPrincipal user, HttpRequest request, UserAdministration users, InviteMailer mailer, CancellationToken ct)
    {
        var actor = user.Actor();
        var created = await users.CreateAsync(actor, body with { Roles = body.Roles ?? [] }, ct);
        var details = await users.GetAsync(actor, created.UserId, ct);
        var invite = created.InviteToken is { } token ? await LinkAsync(request, details.User, token, mailer, ct) : null;
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created(PortalApi.Path($"/users/{created.UserId}"), new CreatedUserAnswer(details, invite));
    }

    private static async Task<Ok<UserDetails>> SetRolesAsync(string id, RolesBody body, ClaimsPrincipal user, UserAdministration users, CancellationToken ct)
    {
        var actor = user.Actor();
        await users.SetRolesAsync(actor, id, body.Roles ?? [], ct);
        return TypedResults.Ok(await users.GetAsync(actor, id, ct));
    }

    private static Task<Ok<UserDetails>> LockAsync(string id, ClaimsPrincipal user, UserAdministration users, CancellationToken ct) =>
        SetLockedAsync(id, true, user, users, ct);

    private static Task<Ok<UserDetails>> UnlockAsync(string id, ClaimsPrincipal user, UserAdministration users, CancellationToken ct) =>
        SetLockedAsync(id, false, user, users, ct);

    private static async Task<Ok<UserDetails>> SetLockedAsync(string id, bool locked, ClaimsPrincipal user, UserAdministration users, CancellationToken ct)
    {
        var actor = user.Actor();
        await users.SetLockedAsync(actor, id, locked, ct);
        return TypedResults.Ok(await users.GetAsync(actor, id, ct));
    }

    private static async Task<Ok<InviteAnswer>> InviteAsync(
        string id, ClaimsPrincipal user, HttpRequest request, UserAdministration users, InviteMailer mailer, CancellationToken ct)
    {
        var actor = user.Actor();
        var token = await users.IssueInviteAsync(actor, id, ct);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(await LinkAsync(request, (await users.GetAsync(actor, id, ct)).User, token, mailer, ct));
    }

    private static async Task<InviteAnswer> LinkAsync(HttpRequest request, UserSummary user, string token, InviteMailer mailer, CancellationToken ct)
    {
        var link = InviteLink(request, user.Id, token);
        if (!mailer.CanSend)
            return new InviteAnswer(link, false);
        try
        {
            await mailer.SendInviteAsync(user.Email, link, ct);
            return new InviteAnswer(link, true);
        }
        catch (System.Net.Mail.SmtpException)
        {
            // As on the user page: the link is in the answer, for the admin to pass on.
            return new InviteAnswer(link, false);
        }
    }
}
