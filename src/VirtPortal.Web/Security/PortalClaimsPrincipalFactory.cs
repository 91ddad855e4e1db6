using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Security;

/// <summary>
/// Adds the user's display name to the sign-in cookie, so timelines and audit say "Ada Admin", not an
/// email, and a session id: a new one at each sign-in, kept when the security-stamp check renews the
/// cookie (<see cref="KeepSession"/>), so that a console ticket is bound to the sign-in it was issued to.
/// </summary>
public sealed class PortalClaimsPrincipalFactory(
    UserManager<PortalUser> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<PortalUser, IdentityRole>(users, roles, options)
{
    public const string DisplayNameClaim = "virtportal:display_name";

    /// <summary>One sign-in: a new GUID each time the user signs in (or refreshes their sign-in after a password change).</summary>
    public const string SessionClaim = "virtportal:session";

    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(DisplayNameClaim, user.Label));
        identity.AddClaim(new Claim(SessionClaim, Guid.NewGuid().ToString("N")));
        return identity;
    }

    /// <summary>The sign-in's session id, or null for a cookie issued before sessions had one.</summary>
    public static string? SessionOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindFirstValue(SessionClaim);
    }

    /// <summary>
    /// The security-stamp check renews the cookie with a principal made afresh by this factory: it keeps
    /// the session id of the principal it replaces, as the same sign-in goes on.
    /// </summary>
    public static Task KeepSession(SecurityStampRefreshingPrincipalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.CurrentPrincipal is { } current && SessionOf(current) is { } session
            && context.NewPrincipal?.Identity is ClaimsIdentity renewed)
        {
            foreach (var claim in renewed.FindAll(SessionClaim).ToList())
                renewed.RemoveClaim(claim);
            renewed.AddClaim(new Claim(SessionClaim, session));
        }

        return Task.CompletedTask;
    }
}
