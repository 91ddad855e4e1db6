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
    public static TheoryData<Who, TenantPermission, bool, bool> Policy => new()
    {
        { Who.Admin, TenantPermission.View, false, true },
        { Who.Admin, TenantPermission.View, true, true },
        { Who.Admin, TenantPermission.ManageMembers, false, true },
        { Who.Admin, TenantPermission.ManageMembers, true, true },
        { Who.Admin, TenantPermission.Administer, false, true },
        { Who.Admin, TenantPermission.Administer, true, true },
        { Who.Admin, TenantPermission.Request, false, false },
        { Who.Admin, TenantPermission.Request, true, false },

        { Who.Approver, TenantPermission.View, false, true },
        { Who.Approver, TenantPermission.View, true, true },
        { Who.Approver, TenantPermission.ManageMembers, false, false },
        { Who.Approver, TenantPermission.ManageMembers, true, false },
        { Who.Approver, TenantPermission.Administer, false, false },
        { Who.Approver, TenantPermission.Administer, true, false },
        { Who.Approver, TenantPermission.Request, false, false },
        { Who.Approver, TenantPermission.Request, true, false },

        { Who.Helpdesk, TenantPermission.View, false, true },
        { Who.Helpdesk, TenantPermission.View, true, true },
        { Who.Helpdesk, TenantPermission.ManageMembers, false, false },
        { Who.Helpdesk, TenantPermission.ManageMembers, true, false },
        { Who.Helpdesk, TenantPermission.Administer, false, false },
        { Who.Helpdesk, TenantPermission.Administer, true, false },
        { Who.Helpdesk, TenantPermission.Request, false, false },
        { Who.Helpdesk, TenantPermission.Request, true, false },

        { Who.Owner, TenantPermission.View, false, true },
        { Who.Owner, TenantPermission.View, true, false },
        { Who.Owner, TenantPermission.ManageMembers, false, true },
        { Who.Owner, TenantPermission.ManageMembers, true, false },
        { Who.Owner, TenantPermission.Administer, false, false },
        { Who.Owner, TenantPermission.Administer, true, false },
        { Who.Owner, TenantPermission.Request, false, true },
        { Who.Owner, TenantPermission.Request, true, false },

        { Who.Member, TenantPermission.View, false, true },
        { Who.Member, TenantPermission.View, true, false },
        { Who.Member, TenantPermission.ManageMembers, false, false },
        { Who.Member, TenantPermission.ManageMembers, true, false },
        { Who.Member, TenantPermission.Administer, false, false },
        { Who.Member, TenantPermission.Administer, true, false },
        { Who.Member, TenantPermission.Request, false, true },
        { Who.Member, TenantPermission.Request, true, false },

        { Who.NonMember, TenantPermission.View, false, false },
        { Who.NonMember, TenantPermission.View, true, false },
        { Who.NonMember, TenantPermission.ManageMembers, false, false },
        { Who.NonMember, TenantPermission.ManageMembers, true, false },
        { Who.NonMember, TenantPermission.Administer, false, false },
        { Who.NonMember, TenantPermission.Administer, true, false },
        { Who.NonMember, TenantPermission.Request, false, false },
        { Who.NonMember, TenantPermission.Request, true, false },
    };

    [Theory]
    [MemberData(nameof(Policy))]
    public void Grants_exactly_what_the_policy_table_says(Who who, TenantPermission permission, bool archived, bool expected)
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

        var allowed = TenantAccess.Allows(actor, permission, membership, archived);

        Assert.Equal(expected, allowed);
    }

    [Fact]
    public void Policy_table_covers_every_permission_for_everyone_on_active_and_archived_tenants()
    {
        var rows = Policy.Select(row => (row.Data.Item1, row.Data.Item2, row.Data.Item3)).ToHashSet();

        var expected = Enum.GetValues<Who>().Length * Enum.GetValues<TenantPermission>().Length * 2;

        Assert.Equal(expected, rows.Count);
    }

    [Fact]
    public void An_unknown_permission_is_denied_even_to_an_admin()
    {
        var allowed = TenantAccess.Allows(ActorWith(GlobalRoles.Admin), (TenantPermission)99, TenantRole.Owner, tenantArchived: false);

        Assert.False(allowed);
    }

    private static Actor ActorWith(params string[] roles) => new("user-1", "user@test.local", roles.ToHashSet());
}
