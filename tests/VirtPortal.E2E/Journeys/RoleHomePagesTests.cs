using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Core.Demo;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

[Collection(BrowserCollection.Name)]
public sealed class RoleHomePagesTests(BrowserFixture browser)
{
    [Theory]
    [InlineData("member@demo.virtportal.local", "member")]
    [InlineData("owner@demo.virtportal.local", "owner")]
    [InlineData("approver@demo.virtportal.local", "approver")]
    [InlineData("helpdesk@demo.virtportal.local", "helpdesk")]
    [InlineData("admin@demo.virtportal.local", "admin")]
    public async Task Each_role_lands_on_its_own_home_page(string email, string role)
    {
        await using var context = await browser.NewContextAsync(email);
        var page = await context.NewPageAsync();
        await new Shell(page).OpenAsync("/");
        await Expect(page.GetByTestId("home-title")).ToBeVisibleAsync();

        switch (role)
        {
            case "member":
                await Expect(page.GetByTestId($"my-tenant-{DemoAccounts.AcmeTenant}")).ToBeVisibleAsync();
                await Expect(page.GetByTestId($"my-tenant-{DemoAccounts.GlobexTenant}")).ToHaveCountAsync(0);
                await Expect(page.GetByTestId("portal-counts")).ToHaveCountAsync(0);
                await Expect(page.GetByTestId("nav-users")).ToHaveCountAsync(0);
                await Expect(page.GetByTestId("nav-tenants")).ToHaveTextAsync("My tenants");
                break;
            case "owner":
                await Expect(page.GetByTestId($"my-tenant-{DemoAccounts.AcmeTenant}")).ToContainTextAsync("You are an owner");
                await Expect(page.GetByTestId($"my-tenant-{DemoAccounts.GlobexTenant}")).ToContainTextAsync("You are a member");
                await Expect(page.GetByTestId("tenant-switcher")).ToContainTextAsync(new System.Text.RegularExpressions.Regex($"{DemoAccounts.AcmeTenant}|{DemoAccounts.GlobexTenant}"));
                break;
            case "approver":
            case "helpdesk":
                // Other journeys add tenants to the shared portal, so compare with what it holds now.
                var tenants = browser.Server.Services.GetRequiredService<TenantService>();
                var active = await tenants.ListVisibleAsync(Actor.System, includeArchived: false, TestContext.Current.CancellationToken);
                await Expect(page.GetByTestId("count-active-tenants-value")).ToHaveTextAsync(active.Count.ToString(CultureInfo.InvariantCulture));
                await Expect(page.GetByTestId("nav-tenants")).ToHaveTextAsync("Tenants");
                await Expect(page.GetByTestId("nav-users")).ToHaveCountAsync(0);
                await Expect(page.GetByTestId("count-locked-users")).ToHaveCountAsync(0);
                break;
            case "admin":
                await Expect(page.GetByTestId("count-active-tenants-value")).Not.ToHaveTextAsync("0");
                await Expect(page.GetByTestId("count-users")).ToBeVisibleAsync();
                await Expect(page.GetByTestId("nav-users")).ToBeVisibleAsync();
                break;
        }

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, $"home-{role}.png"), FullPage = true });
    }
}
