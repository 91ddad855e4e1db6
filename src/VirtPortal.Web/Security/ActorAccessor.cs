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

    public static Actor? FromPrincipal(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.Identity?.IsAuthenticated != true || principal.FindFirstValue(ClaimTypes.NameIdentifier) is not { } id)
            return null;
        var roles = principal.FindAll(ClaimTypes.Role).Select(c => c.Value).Where(GlobalRoles.IsKnown).ToHashSet(StringComparer.Ordinal);
        var name = principal.FindFirstValue(PortalClaimsPrincipalFactory.DisplayNameClaim) ?? principal.Identity.Name ?? id;
        return new Actor(id, name, roles);
    }
}
