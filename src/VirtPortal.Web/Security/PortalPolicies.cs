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
}
