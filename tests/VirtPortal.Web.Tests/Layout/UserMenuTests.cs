using Bunit;
using MudBlazor;
using VirtPortal.Web.Components;
using VirtPortal.Web.Components.Layout;

namespace VirtPortal.Web.Tests.Layout;

public sealed class UserMenuTests : PortalComponentTest
{
    [Fact]
    public async Task Clicking_the_account_button_opens_the_menu_with_the_user_name()
    {
        var popovers = await OpenMenuAsync("mia@example.test");

        popovers.WaitForAssertion(() =>
            Assert.Equal("mia@example.test", popovers.Find("[data-testid=user-menu-name]").TextContent.Trim()));
    }

    [Fact]
    public async Task The_menu_leads_to_the_users_API_tokens()
    {
        var popovers = await OpenMenuAsync("mia@example.test");

        popovers.WaitForAssertion(() =>
            Assert.Equal(PortalRoutes.Tokens, popovers.Find("[data-testid=user-menu-tokens]").GetAttribute("href")));
    }

    [Fact]
    public void Anonymous_visitors_get_no_account_menu()
    {
        AddPortalAuthorization().SetNotAuthorized();
        UseInteractiveServerRenderer();

        var menu = Render<UserMenu>();

        Assert.Empty(menu.FindAll("[data-testid=user-menu]"));
    }

    /// <summary>Signs the user in, renders the menu and clicks the account button; the menu's items render in the popover provider.</summary>
    private async Task<IRenderedComponent<MudPopoverProvider>> OpenMenuAsync(string user)
    {
        AddPortalAuthorization().SetAuthorized(user);
        UseInteractiveServerRenderer();
        var popovers = Render<MudPopoverProvider>();
        var menu = Render<UserMenu>();
        await menu.Find("[data-testid=user-menu] button").ClickAsync(new());
        return popovers;
    }
}
