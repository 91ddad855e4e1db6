using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Users;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

[Collection(BrowserCollection.Name)]
public sealed class PreferencesAndSessionTests(BrowserFixture browser)
{
    // PortalTheme's light background (#f4f6fa) and MudBlazor's dark one (#32333d), which the portal keeps.
    private const string LightBackground = "rgb(244, 246, 250)";
    private const string DarkBackground = "rgb(50, 51, 61)";

    [Fact]
    public async Task Dark_mode_choice_survives_a_reload()
    {
        await using var context = await browser.NewContextAsync("approver@demo.virtportal.local");
        var page = await context.NewPageAsync();
        var shell = new Shell(page);
        await shell.OpenAsync("/");
        await Expect(shell.ThemeToggle).ToHaveAttributeAsync("data-theme", "light");
        // The page itself changes colour (the portal theme's backgrounds), not only the button.
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", LightBackground);

        await shell.ThemeToggle.ClickAsync();
        await Expect(shell.ThemeToggle).ToHaveAttributeAsync("data-theme", "dark");
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", DarkBackground);

        await page.ReloadAsync();
        await shell.WaitForInteractiveAsync();
        await Expect(shell.ThemeToggle).ToHaveAttributeAsync("data-theme", "dark");
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", DarkBackground);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "home-approver-dark.png") });
    }

    [Fact]
    public async Task Locking_a_user_ends_their_open_session()
    {
        const string email = "locked-later@e2e.virtportal.local";
        var users = browser.Server.Services.GetRequiredService<UserAdministration>();
        var admin = new Actor("e2e", "e2e", new HashSet<string> { GlobalRoles.Admin });
        var created = await users.CreateAsync(admin, new NewUser(email, "Locked Later", [], Password: "locked-later-password"), TestContext.Current.CancellationToken);

        await using var context = await browser.NewContextAsync(email, "locked-later-password");
        var page = await context.NewPageAsync();
        await new Shell(page).OpenAsync("/");

        await users.SetLockedAsync(admin, created.UserId, locked: true, TestContext.Current.CancellationToken);

        // The open circuit revalidates (every 2 s in tests, 30 s by default) and sends the browser to sign-in.
        await page.WaitForURLAsync(url => url.Contains("/Account/Login", StringComparison.OrdinalIgnoreCase), new() { Timeout = 20_000 });
        await new LoginPage(page).SignInAsync(email, "locked-later-password");
        await Expect(page.GetByTestId("lockout")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_user_in_two_tenants_switches_between_them_from_the_app_bar()
    {
        await using var context = await browser.NewContextAsync("owner@demo.virtportal.local");
        var page = await context.NewPageAsync();
        await new Shell(page).OpenAsync("/");

        var switcher = page.GetByTestId("tenant-switcher");
        var target = (await switcher.InnerTextAsync()).Contains(DemoAccounts.AcmeTenant, StringComparison.Ordinal)
            ? DemoAccounts.GlobexTenant
            : DemoAccounts.AcmeTenant;

        await switcher.GetByRole(AriaRole.Button).ClickAsync();
        await page.GetByTestId($"tenant-option-{target}").ClickAsync();

        await Expect(page.GetByTestId("tenant-title")).ToHaveTextAsync(target);
        await Expect(switcher).ToContainTextAsync(target);
        await page.ReloadAsync();
        await new Shell(page).WaitForInteractiveAsync();
        await Expect(switcher).ToContainTextAsync(target);
    }
}
