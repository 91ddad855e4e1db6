using Bunit;
using MudBlazor;
using VirtPortal.Web.Components.Layout;

namespace VirtPortal.Web.Tests.Layout;

public sealed class UserMenuTests : PortalComponentTest
{
    [Fact]
    public async Task Clicking_the_account_button_opens_the_menu_with_the_user_name()
    {
        AddPortalAuthorization().SetAuthorized("mia@example.test");
        UseInteractiveServerRenderer();
        var popovers = Render<MudPopoverProvider>();
        var menu = Render<UserMenu>();

        await menu.Find("[data-testid=user-menu] button").ClickAsync(new());

        popovers.WaitForAssertion(() =>
            Assert.Equal("mia@example.test", popovers.Find("[data-testid=user-menu-name]").TextContent.Trim()));
    }

    [Fact]
    public void Anonymous_visitors_get_no_account_menu()
    {
        AddPortalAuthorization().SetNotAuthorized();
        UseInteractiveServerRenderer();

        var menu = Render<UserMenu>();

        Assert.Empty(menu.FindAll("[data-testid=user-menu]"));
    }
}
