using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Layout;

namespace VirtPortal.Web.Tests.Layout;

/// <summary>The "Audit log" entry: admins, helpdesk and tenant owners (the layout says who owns a tenant).</summary>
public sealed class NavMenuAuditTests : PortalComponentTest
{
    private readonly BunitAuthorizationContext authorization;

    public NavMenuAuditTests()
    {
        authorization = AddPortalAuthorization();
        UseInteractiveServerRenderer();
    }

    [Theory]
    [InlineData(GlobalRoles.Admin)]
    [InlineData(GlobalRoles.Helpdesk)]
    public void Admin_and_helpdesk_see_the_audit_log(string role)
    {
        SignIn("staff@example.test", role);

        var menu = Render<NavMenu>();

        Assert.Equal("Audit log", menu.Find("[data-testid=nav-audit]").TextContent.Trim());
    }

    [Fact]
    public void A_tenant_owner_sees_the_audit_log()
    {
        SignIn("owner@example.test");

        var menu = Render<NavMenu>(p => p.Add(m => m.OwnsATenant, true));

        Assert.NotNull(menu.Find("[data-testid=nav-audit]"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(GlobalRoles.Approver)]
    public void Members_and_approvers_who_own_nothing_do_not_see_it(string? role)
    {
        SignIn("someone@example.test", role is null ? [] : [role]);

        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll("[data-testid=nav-audit]"));
    }

    [Fact]
    public void Anonymous_users_do_not_see_it()
    {
        authorization.SetNotAuthorized();

        var menu = Render<NavMenu>(p => p.Add(m => m.OwnsATenant, true));

        Assert.Empty(menu.FindAll("[data-testid=nav-audit]"));
    }

    private void SignIn(string name, params string[] roles)
    {
        authorization.SetAuthorized(name);
        authorization.SetRoles(roles);
        authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, name));
    }
}
