using VirtPortal.Core.Access;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Tenancy;

public sealed class TenantAccessTests
{
    /// <summary>Who is asking: a global role, a role in the tenant, or neither.</summary>
    public enum Who
    {
        Admin,
        Approver,
        Helpdesk,
        Owner,
        Member,
        NonMember,
    }

    // The whole policy as one table: who, permission, archived tenant, allowed.
    // Requests are for members and owners of active tenants only; a global role alone grants none.
    public static TheoryData<Who, Permission, bool, bool> Policy => new()
    {
        { Who.Admin, Permission.TenantView, false, true },
        { Who.Admin, Permission.TenantView, true, true },
        { Who.Admin, Permission.TenantManageMembers, false, true },
        { Who.Admin, Permission.TenantManageMembers, true, true },
        { Who.Admin, Permission.TenantAdminister, false, true },
        { Who.Admin, Permission.TenantAdminister, true, true },
        { Who.Admin, Permission.TenantRequest, false, false },
        { Who.Admin, Permission.TenantRequest, true, false },

        { Who.Approver, Permission.TenantView, false, true },
        { Who.Approver, Permission.TenantView, true, true },
        { Who.Approver, Permission.TenantManageMembers, false, false },
        { Who.Approver, Permission.TenantManageMembers, true, false },
        { Who.Approver, Permission.TenantAdminister, false, false },
        { Who.Approver, Permission.TenantAdminister, true, false },
        { Who.Approver, Permission.TenantRequest, false, false },
        { Who.Approver, Permission.TenantRequest, true, false },

        { Who.Helpdesk, Permission.TenantView, false, true },
        { Who.Helpdesk, Permission.TenantView, true, true },
        { Who.Helpdesk, Permission.TenantManageMembers, false, false },
        { Who.Helpdesk, Permission.TenantManageMembers, true, false },
        { Who.Helpdesk, Permission.TenantAdminister, false, false },
        { Who.Helpdesk, Permission.TenantAdminister, true, false },
        { Who.Helpdesk, Permission.TenantRequest, false, false },
        { Who.Helpdesk, Permission.TenantRequest, true, false },

        { Who.Owner, Permission.TenantView, false, true },
        { Who.Owner, Permission.TenantView, true, false },
        { Who.Owner, Permission.TenantManageMembers, false, true },
        { Who.Owner, Permission.TenantManageMembers, true, false },
        { Who.Owner, Permission.TenantAdminister, false, false },
        { Who.Owner, Permission.TenantAdminister, true, false },
        { Who.Owner, Permission.TenantRequest, false, true },
        { Who.Owner, Permission.TenantRequest, true, false },

        { Who.Member, Permission.TenantView, false, true },
        { Who.Member, Permission.TenantView, true, false },
        { Who.Member, Permission.TenantManageMembers, false, false },
        { Who.Member, Permission.TenantManageMembers, true, false },
        { Who.Member, Permission.TenantAdminister, false, false },
        { Who.Member, Permission.TenantAdminister, true, false },
        { Who.Member, Permission.TenantRequest, false, true },
        { Who.Member, Permission.TenantRequest, true, false },

        { Who.NonMember, Permission.TenantView, false, false },
        { Who.NonMember, Permission.TenantView, true, false },
        { Who.NonMember, Permission.TenantManageMembers, false, false },
        { Who.NonMember, Permission.TenantManageMembers, true, false },
        { Who.NonMember, Permission.TenantAdminister, false, false },
        { Who.NonMember, Permission.TenantAdminister, true, false },
        { Who.NonMember, Permission.TenantRequest, false, false },
        { Who.NonMember, Permission.TenantRequest, true, false },
    };

    [Theory]
    [MemberData(nameof(Policy))]
    public void Grants_exactly_what_the_policy_table_says(Who who, Permission permission, bool archived, bool expected)
    {
        var (actor, membership) = who switch
        {
            Who.Admin => (ActorWith(GlobalRoles.Admin), (TenantRole?)null),
            Who.Approver => (ActorWith(GlobalRoles.Approver), null),
            Who.Helpdesk => (ActorWith(GlobalRoles.Helpdesk), null),
            Who.Owner => (ActorWith(), TenantRole.Owner),
            Who.Member => (ActorWith(), TenantRole.Member),
            _ => (ActorWith(), null),
        };

        var allowed = AccessRules.Allows(actor, permission, new AccessFacts { TenantId = Guid.NewGuid(), Membership = membership, TenantArchived = archived });

        Assert.Equal(expected, allowed);
    }

    [Fact]
    public void Policy_table_covers_every_permission_for_everyone_on_active_and_archived_tenants()
    {
        var rows = Policy.Select(row => (row.Data.Item1, row.Data.Item2, row.Data.Item3)).ToHashSet();

        var expected = Enum.GetValues<Who>().Length * TenantPermissions.Length * 2;

        Assert.Equal(expected, rows.Count);
    }

    [Fact]
    public void An_unknown_permission_is_denied_even_to_an_admin()
    {
        var allowed = AccessRules.Allows(ActorWith(GlobalRoles.Admin), (Permission)99, new AccessFacts { TenantId = Guid.NewGuid(), Membership = TenantRole.Owner });

        Assert.False(allowed);
    }

    private static readonly Permission[] TenantPermissions =
        [Permission.TenantView, Permission.TenantManageMembers, Permission.TenantAdminister, Permission.TenantRequest];

    private static Actor ActorWith(params string[] roles) => new("user-1", "user@test.local", roles.ToHashSet());
}
