using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using VirtPortal.Core.Common;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Security;

/// <summary>
/// The signed-in user as a Core <see cref="Actor"/>. Works in a circuit, where there is no HTTP request,
/// because it reads the authentication state the circuit was given (and revalidates).
/// </summary>
public sealed class ActorAccessor(AuthenticationStateProvider authenticationState)
{
    public async Task<Actor> GetAsync()
    {
        var state = await authenticationState.GetAuthenticationStateAsync();
        return FromPrincipal(state.User) ?? throw new PortalAccessDeniedException("Sign in first.");
    }

    /// <summary>
    /// The actor a principal speaks for: the signed-in user, through the API token they presented if any (its
    /// scope then narrows what the access table allows). A request that carries both a cookie and a token is
    /// the token's: its identity alone is read, so the two are never mixed.
    /// </summary>
    public static Actor? FromPrincipal(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var identity = principal.Identities.FirstOrDefault(i => i.IsAuthenticated && i.AuthenticationType == ApiTokenDefaults.Scheme) ?? principal.Identity as ClaimsIdentity;
        if (identity?.IsAuthenticated != true || identity.FindFirst(ClaimTypes.NameIdentifier)?.Value is not { } id)
            return null;
        var roles = identity.FindAll(ClaimTypes.Role).Select(c => c.Value).Where(GlobalRoles.IsKnown).ToHashSet(StringComparer.Ordinal);
        var name = identity.FindFirst(PortalClaimsPrincipalFactory.DisplayNameClaim)?.Value ?? identity.Name ?? id;
        return new Actor(id, name, roles) { Token = ApiTokenDefaults.ScopeOf(new ClaimsPrincipal(identity)) };
    }
}
