using Microsoft.Playwright;
using VirtPortal.Core.Demo;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

[Collection(BrowserCollection.Name)]
public sealed class AdminOnboardingTests(BrowserFixture browser)
{
    [Fact]
    public async Task Admin_creates_a_tenant_and_invites_a_user_who_then_sees_only_that_tenant()
    {
        // The bootstrap admin signs in through the real form.
        await using var adminContext = await browser.NewContextAsync();
        var admin = await adminContext.NewPageAsync();
        await admin.GotoAsync("/");
        await Expect(admin).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/Account/Login"));
        await new LoginPage(admin).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword);
        await new Shell(admin).WaitForInteractiveAsync();

        var tenants = new TenantsPage(admin);
        await tenants.OpenAsync();
        await tenants.CreateAsync("Initech Labs", "Staplers and TPS reports");
        await Expect(tenants.Row("Initech Labs")).ToBeVisibleAsync();

        var users = new UsersPage(admin);
        await users.OpenAsync();
        var invite = await users.CreateWithInviteAsync("peter@initech.example", "Peter Gibbons", "Initech Labs");
        await Expect(admin.GetByTestId("user-row-peter@initech.example")).ToBeVisibleAsync();
        await new Shell(admin).SignOutAsync();

        // The new user sets a password from the one-time link, then signs in.
        await using var userContext = await browser.NewContextAsync();
        var user = await userContext.NewPageAsync();
        await user.GotoAsync(invite);
        await user.GetByTestId("set-password-password").FillAsync("peters-new-password");
        await user.GetByTestId("set-password-confirm").FillAsync("peters-new-password");
        await user.GetByTestId("set-password-submit").ClickAsync();
        await Expect(user.GetByTestId("status-message")).ToContainTextAsync("Your password is set");
        await new LoginPage(user).SignInAsync("peter@initech.example", "peters-new-password");
        await new Shell(user).WaitForInteractiveAsync();

        await Expect(user.GetByTestId("home-title")).ToHaveTextAsync("Welcome, Peter Gibbons");
        await Expect(user.GetByTestId("my-tenant-Initech Labs")).ToBeVisibleAsync();
        await Expect(user.GetByTestId($"my-tenant-{DemoAccounts.AcmeTenant}")).ToHaveCountAsync(0);
        await Expect(user.GetByTestId("nav-users")).ToHaveCountAsync(0);

        await new TenantsPage(user).OpenAsync();
        await Expect(user.GetByTestId("tenant-table").GetByRole(AriaRole.Link)).ToHaveTextAsync(["Initech Labs"]);

        // The link is single-use.
        await user.GotoAsync(invite);
        await user.GetByTestId("set-password-password").FillAsync("another-password-1");
        await user.GetByTestId("set-password-confirm").FillAsync("another-password-1");
        await user.GetByTestId("set-password-submit").ClickAsync();
        await Expect(user.GetByTestId("set-password-error")).ToContainTextAsync("expired or was already used");
    }
}
