using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Security;

/// <summary>The API token scheme's name and the claims a token principal carries besides the user's own.</summary>
public static class ApiTokenDefaults
{
    public const string Scheme = "ApiToken";

    public const string TokenIdClaim = "virtportal:token_id";

    /// <summary>The tenant the token is limited to; absent for every tenant.</summary>
    public const string TokenTenantClaim = "virtportal:token_tenant";

    public const string TokenReadOnlyClaim = "virtportal:token_read_only";

    /// <summary>The token's scope from a principal, or null when the principal did not sign in with a token.</summary>
    public static TokenScope? ScopeOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.FindFirstValue(TokenIdClaim) is not { } id)
            return null;
        return new TokenScope(Guid.Parse(id), principal.FindFirstValue(TokenTenantClaim) is { } tenant ? Guid.Parse(tenant) : null,
            principal.FindFirstValue(TokenReadOnlyClaim) == "true");
    }
}

/// <summary>
/// <c>Authorization: Bearer vpt_…</c>: a personal API token speaks for its user with the claims the sign-in
/// cookie carries (so <see cref="ActorAccessor.FromPrincipal"/> reads both alike) plus its scope. The token and its
/// user are checked on every call: a revoked or expired token, and the token of a locked or deleted user, are
/// refused at once. Refusals are 401 with a ProblemDetails body that says why; the token is never logged.
/// Only the header is read, never the query string, where a token would end up in access logs.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiTokenService tokens, UserManager<PortalUser> users, IOptions<IdentityOptions> identity, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is not { } presented
            || !presented.StartsWith(ApiTokenService.Prefix, StringComparison.Ordinal))
            return AuthenticateResult.NoResult();

        var check = await tokens.CheckAsync(presented, Context.RequestAborted);
        if (check.Refusal is { } refusal)
            return AuthenticateResult.Fail(refusal switch
            {
                ApiTokenRefusal.Expired => "This API token has expired.",
                ApiTokenRefusal.Revoked => "This API token was revoked.",
                ApiTokenRefusal.Malformed => "This is not a VirtPortal API token.",
                _ => "This API token is not known.",
            });

        var user = await users.FindByIdAsync(check.UserId!);
        if (user is null)
            return AuthenticateResult.Fail("This API token is not known.");
        if (await users.IsLockedOutAsync(user))
            return AuthenticateResult.Fail("This API token's user is locked out.");

        var scope = check.Scope!;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id),
            new(ClaimTypes.Name, user.UserName ?? user.Id),
            new(PortalClaimsPrincipalFactory.DisplayNameClaim, user.Label),
            new(identity.Value.ClaimsIdentity.SecurityStampClaimType, await users.GetSecurityStampAsync(user)),
            new(ApiTokenDefaults.TokenIdClaim, scope.TokenId.ToString()),
            new(ApiTokenDefaults.TokenReadOnlyClaim, scope.ReadOnly ? "true" : "false"),
            // A token is its own sign-in session: a console ticket it takes is good with it only.
            new(PortalClaimsPrincipalFactory.SessionClaim, "token:" + scope.TokenId.ToString("N")),
        };
        if (scope.TenantId is { } tenant)
            claims.Add(new Claim(ApiTokenDefaults.TokenTenantClaim, tenant.ToString()));
        claims.AddRange((await users.GetRolesAsync(user)).Select(role => new Claim(ClaimTypes.Role, role)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, ClaimTypes.Name, ClaimTypes.Role));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer" : $"Bearer error=\"invalid_token\", error_description=\"{failure}\"";
        await RefuseAsync(StatusCodes.Status401Unauthorized, failure ?? "Send a personal API token: Authorization: Bearer vpt_… (made on the API tokens page).");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        RefuseAsync(StatusCodes.Status403Forbidden, "This API token may not do that.");

    private async Task RefuseAsync(int status, string detail)
    {
        // A script reads the refusal; the portal's status-code pages are for browsers on pages.
        if (Context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            pages.Enabled = false;
        Response.StatusCode = status;
        if (Response.HasStarted)
            return;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Detail = detail },
        });
    }
}
