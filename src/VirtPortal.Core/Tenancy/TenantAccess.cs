using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tenancy;

/// <summary>What an actor may do with a tenant.</summary>
public enum TenantPermission
{
    /// <summary>See the tenant, its quota and members.</summary>
    View,

    /// <summary>Add, remove and change the role of members.</summary>
    ManageMembers,

    /// <summary>Create, rename, archive tenants and set quotas.</summary>
    Administer,

    /// <summary>Submit requests (VMs, databases, resizes, lease extensions, quota increases) for the tenant.</summary>
    Request,
}

/// <summary>
/// The one place that decides tenant access; pages, API, hub and services all ask it.
/// <paramref name="membership"/> is the actor's role in the tenant, or null when not a member.
/// </summary>
public static class TenantAccess
{
    public static bool Allows(Actor actor, TenantPermission permission, TenantRole? membership, bool tenantArchived)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return permission switch
        {
            TenantPermission.View => actor.IsStaff || (membership is not null && !tenantArchived),
            TenantPermission.ManageMembers => actor.IsAdmin || (membership == TenantRole.Owner && !tenantArchived),
            TenantPermission.Administer => actor.IsAdmin,
            TenantPermission.Request => membership is not null && !tenantArchived,
            _ => false,
        };
    }
}
