using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Security;

/// <summary>
/// Whether a long-lived session (a Blazor circuit, a live hub connection) still speaks for its user: the
/// user exists, is not locked out, and has the security stamp the session signed in with (a role removed,
/// a password reset or a lock changes it); a session opened with an API token also needs the token to be
/// neither revoked nor expired.
/// </summary>
public static class SessionValidation
{
    public static async Task<bool> IsCurrentAsync(UserManager<PortalUser> userManager, IdentityOptions options, ClaimsPrincipal principal, ApiTokenService tokens)
    {
        ArgumentNullException.ThrowIfNull(userManager);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(tokens);
        if (ApiTokenDefaults.ScopeOf(principal) is { } token && !await tokens.IsActiveAsync(token.TokenId))
            return false;
        var user = await userManager.GetUserAsync(principal);
        if (user is null || await userManager.IsLockedOutAsync(user))
            return false;
        if (!userManager.SupportsUserSecurityStamp)
            return true;
        var principalStamp = principal.FindFirstValue(options.ClaimsIdentity.SecurityStampClaimType);
        var userStamp = await userManager.GetSecurityStampAsync(user);
        return principalStamp == userStamp;
    }
}
