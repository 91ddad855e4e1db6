using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

public sealed class UsersPage(IPage page)
{
    public Task OpenAsync() => new Shell(page).OpenAsync("/admin/users");

    /// <summary>Creates a user with an invite link and a membership; returns the link shown to the admin.</summary>
    public async Task<string> CreateWithInviteAsync(string email, string displayName, string tenant)
    {
        await page.GetByTestId("user-create").ClickAsync();
        await page.GetByTestId("user-email").FillAsync(email);
        await page.GetByTestId("user-display-name").FillAsync(displayName);
        await page.GetByTestId("user-tenant").ClickAsync();
        await page.GetByTestId($"user-tenant-option-{tenant}").ClickAsync();
        await page.GetByTestId("user-create-submit").ClickAsync();
        var link = page.GetByTestId("invite-link");
        await Assertions.Expect(link).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("/Account/SetPassword\\?user="));
        var value = await link.InputValueAsync();
        await page.GetByTestId("user-created-done").ClickAsync();
        return value;
    }
}
