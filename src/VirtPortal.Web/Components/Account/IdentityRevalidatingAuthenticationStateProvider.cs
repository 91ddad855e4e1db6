using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hosting;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Components.Account;

/// <summary>
/// Re-checks a connected circuit's user every <see cref="PortalIdentityOptions.RevalidationInterval"/>:
/// a changed security stamp (role removed, password reset, lock) or a lockout signs the circuit out,
/// and the router then sends the browser to the sign-in page.
/// </summary>
internal sealed class IdentityRevalidatingAuthenticationStateProvider(
        ILoggerFactory loggerFactory,
        IServiceScopeFactory scopeFactory,
        IOptions<IdentityOptions> options,
        IOptions<PortalIdentityOptions> portalOptions)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => portalOptions.Value.RevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(
        AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var userManager = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        return await SessionValidation.IsCurrentAsync(userManager, options.Value, authenticationState.User, scope.ServiceProvider.GetRequiredService<ApiTokenService>());
    }
}
