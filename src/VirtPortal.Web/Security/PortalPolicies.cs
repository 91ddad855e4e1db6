using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Security;

/// <summary>Authorization policy names, used by pages ([Authorize(Policy = …)]), endpoints and the nav menu.</summary>
public static class PortalPolicies
{
    /// <summary>Manage tenants, users and (later) catalog and hosts.</summary>
    public const string Admin = "admin";

    /// <summary>See every tenant: admins, approvers, helpdesk.</summary>
    public const string Staff = "staff";

    public static IServiceCollection AddPortalAuthorization(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder()
            .AddPolicy(Admin, p => p.RequireRole(GlobalRoles.Admin))
            .AddPolicy(Staff, p => p.RequireRole(GlobalRoles.All));
        services.AddScoped<ActorAccessor>();
        return services;
    }

    /// <summary>What the default policy (an authenticated user) decides, as a bare <c>AuthorizeView</c> would, for markup that already holds the user.</summary>
    public static bool IsSignedIn([NotNullWhen(true)] ClaimsPrincipal? user) => user?.Identities.Any(i => i.IsAuthenticated) == true;

    /// <summary>What the <see cref="Admin"/> policy decides (RequireRole is IsInRole), for markup that already holds the user.</summary>
    public static bool IsAdmin(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.IsInRole(GlobalRoles.Admin);
    }

    /// <summary>What the <see cref="Staff"/> policy decides: any of the global roles.</summary>
    public static bool IsStaff(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return GlobalRoles.All.Any(user.IsInRole);
    }
}
