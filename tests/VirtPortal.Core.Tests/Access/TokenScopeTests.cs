using VirtPortal.Core.Access;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Access;

/// <summary>The access table as an API token sees it: what the user may, narrowed by the token's scope, never widened.</summary>
public sealed class TokenScopeTests
{
    private static readonly Guid Acme = Guid.CreateVersion7();
    private static readonly Guid Globex = Guid.CreateVersion7();

    private static Actor User(params string[] roles) => new("user-1", "Ada", roles.ToHashSet());

    private static Actor Through(Actor user, Guid? tenant = null, bool readOnly = false) =>
        user with { Token = new TokenScope(Guid.CreateVersion7(), tenant, readOnly) };

    private static AccessFacts MemberOf(Guid tenant, TenantRole role = TenantRole.Member) => new() { TenantId = tenant, Membership = role };

    [Fact]
    public void Every_permission_says_whether_it_changes_anything()
    {
        foreach (var permission in Enum.GetValues<Permission>())
            AccessRules.Changes(permission, new AccessFacts());
    }

    [Theory]
    [InlineData(Permission.TenantView, true)]
    [InlineData(Permission.ResourceView, true)]
    [InlineData(Permission.RequestView, true)]
    [InlineData(Permission.ResourceConsoleViewOnly, true)]
    [InlineData(Permission.TenantRequest, false)]
    [InlineData(Permission.ResourceOperate, false)]
    [InlineData(Permission.ResourceConsole, false)]
    [InlineData(Permission.TenantManageMembers, false)]
    public void A_read_only_token_of_an_owner_reads_what_the_owner_reads_and_changes_nothing(Permission permission, bool allowed)
    {
        var token = Through(User(), readOnly: true);
        var facts = MemberOf(Acme, TenantRole.Owner);

        var decision = AccessRules.Decide(token, permission, facts);

        Assert.True(AccessRules.Allows(User(), permission, facts));
        Assert.Equal(allowed, decision.Allowed);
        if (!allowed)
            Assert.Equal(AccessRules.ReadOnlyTokenReason, decision.Reason);
    }

    [Fact]
    public void A_read_only_token_reads_the_approval_inbox_but_decides_nothing_alone_or_in_bulk()
    {
        var approver = Through(User(GlobalRoles.Approver), readOnly: true);
        var pending = new AccessFacts
        {
            TenantId = Acme,
            IsRoleApprover = true,
            Request = new RequestFacts("someone-else", RequestState.PendingApproval, 1, new ApprovalStage(), false),
        };

        var inbox = new AccessFacts { IsRoleApprover = true };

        Assert.True(AccessRules.Allows(approver.ForReading(), Permission.RequestDecide, inbox));
        Assert.True(AccessRules.Allows(approver.ForReading(), Permission.RequestDecide, pending));
        Assert.Equal(AccessRules.ReadOnlyTokenReason, AccessRules.Decide(approver, Permission.RequestDecide, inbox).Reason);
        Assert.Equal(AccessRules.ReadOnlyTokenReason, AccessRules.Decide(approver, Permission.RequestDecide, pending).Reason);
    }

    [Fact]
    public void A_token_limited_to_one_tenant_is_refused_the_others_as_if_they_did_not_exist()
    {
        var token = Through(User(), tenant: Acme);

        Assert.True(AccessRules.Allows(token, Permission.ResourceOperate, MemberOf(Acme)));
        var refused = AccessRules.Decide(token, Permission.ResourceOperate, MemberOf(Globex));
        Assert.False(refused.Allowed);
        Assert.Null(refused.Reason);
        Assert.True(AccessRules.Allows(User(), Permission.ResourceOperate, MemberOf(Globex)));
    }

    [Theory]
    [InlineData(Permission.TenantView, false)]
    [InlineData(Permission.ResourceView, false)]
    [InlineData(Permission.AuditRead, false)]
    [InlineData(Permission.HostsManage, false)]
    [InlineData(Permission.UsersManage, false)]
    [InlineData(Permission.CatalogReadAll, false)]
    [InlineData(Permission.SignedIn, true)]
    [InlineData(Permission.CatalogReadEnabled, true)]
    [InlineData(Permission.ApiTokensManage, true)]
    [InlineData(Permission.RequestDecide, true)]
    public void A_token_of_an_admin_limited_to_one_tenant_keeps_no_portal_wide_reach(Permission permission, bool allowed)
    {
        var admin = User(GlobalRoles.Admin);
        var portal = new AccessFacts { IsRoleApprover = true };

        Assert.True(AccessRules.Allows(admin, permission, portal));
        Assert.Equal(allowed, AccessRules.Allows(Through(admin, tenant: Acme), permission, portal));
        Assert.True(AccessRules.Allows(Through(admin, tenant: Acme), Permission.TenantView, new AccessFacts { TenantId = Acme }));
    }

    [Fact]
    public void A_token_never_grants_what_its_user_is_refused()
    {
        foreach (var permission in Enum.GetValues<Permission>())
        {
            foreach (var facts in new[] { new AccessFacts(), MemberOf(Acme), MemberOf(Acme, TenantRole.Owner), new AccessFacts { TenantId = Globex }, AccessFacts.Unknown })
            {
                foreach (var user in new[] { User(), User(GlobalRoles.Helpdesk), User(GlobalRoles.Admin) })
                {
                    foreach (var token in new[] { Through(user), Through(user, Acme), Through(user, readOnly: true), Through(user, Acme, readOnly: true) })
                    {
                        if (AccessRules.Allows(token, permission, facts))
                            Assert.True(AccessRules.Allows(user, permission, facts), $"{permission} granted to a token of a user refused it");
                    }
                }
            }
        }
    }
}
