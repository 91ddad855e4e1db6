using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Layout;

namespace VirtPortal.Web.Tests.Layout;

public sealed class NavMenuTests : PortalComponentTest
{
    private readonly BunitAuthorizationContext authorization;

    public NavMenuTests()
    {
        authorization = AddPortalAuthorization();
        UseInteractiveServerRenderer();
    }

    [Fact]
    public void Anonymous_user_sees_only_home()
    {
        authorization.SetNotAuthorized();

        var menu = Render<NavMenu>();

        Assert.NotNull(menu.Find("[data-testid=nav-home]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-tenants]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-admin]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-users]"));
    }

    [Fact]
    public void Tenant_member_sees_my_tenants_and_no_administration()
    {
        SignIn("member@example.test");

        var menu = Render<NavMenu>();

        Assert.Equal("My tenants", menu.Find("[data-testid=nav-tenants]").TextContent.Trim());
        Assert.Empty(menu.FindAll("[data-testid=nav-admin]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-users]"));
    }

    [Fact]
    public void Admin_sees_tenants_users_and_hosts()
    {
        SignIn("admin@example.test", GlobalRoles.Admin);

        var menu = Render<NavMenu>();

        Assert.Equal("Tenants", menu.Find("[data-testid=nav-tenants]").TextContent.Trim());
        Assert.NotNull(menu.Find("[data-testid=nav-admin]"));
        Assert.Equal("Users", menu.Find("[data-testid=nav-users]").TextContent.Trim());
        Assert.Equal("Hosts", menu.Find("[data-testid=nav-hosts]").TextContent.Trim());
        Assert.Equal("/admin/database-servers", menu.Find("[data-testid=nav-database-servers]").GetAttribute("href"));
    }

    [Theory]
    [InlineData(GlobalRoles.Helpdesk)]
    [InlineData(GlobalRoles.Approver)]
    public void Helpdesk_and_approver_see_all_tenants_but_not_users(string role)
    {
        SignIn($"{role.ToUpperInvariant()}@example.test", role);

        var menu = Render<NavMenu>();

        Assert.Equal("Tenants", menu.Find("[data-testid=nav-tenants]").TextContent.Trim());
        Assert.Empty(menu.FindAll("[data-testid=nav-admin]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-users]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-hosts]"));
        Assert.Empty(menu.FindAll("[data-testid=nav-database-servers]"));
    }

    [Fact]
    public void The_entry_of_the_current_page_is_marked_and_follows_navigation()
    {
        SignIn("member@example.test");
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/tenants/4f1c0c7e-0000-0000-0000-000000000001");

        var menu = Render<NavMenu>();

        Assert.Contains("active", menu.Find("[data-testid=nav-tenants]").ClassList);
        Assert.Equal("page", menu.Find("[data-testid=nav-tenants]").GetAttribute("aria-current"));
        Assert.DoesNotContain("active", menu.Find("[data-testid=nav-home]").ClassList);

        navigation.NavigateTo("/");

        menu.WaitForAssertion(() => Assert.Contains("active", menu.Find("[data-testid=nav-home]").ClassList));
        Assert.DoesNotContain("active", menu.Find("[data-testid=nav-tenants]").ClassList);
        Assert.Null(menu.Find("[data-testid=nav-tenants]").GetAttribute("aria-current"));
    }

    private void SignIn(string name, params string[] roles)
    {
        authorization.SetAuthorized(name);
        authorization.SetRoles(roles);
        authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, name));
    }
}
