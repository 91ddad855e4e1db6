using System.Net;

namespace VirtPortal.Web.Tests.Security;

/// <summary>The static sign-in form: antiforgery, wrong passwords and lockout.</summary>
public sealed class SignInTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private const string WrongPassword = "not-the-right-password";

    [Fact]
    public async Task The_right_password_signs_in_and_opens_the_home_page()
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.PostLoginAsync("owner@demo.virtportal.local", PortalAppFactory.DemoPassword);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.RedirectTarget().AbsolutePath);
        using var home = await browser.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [Fact]
    public async Task A_sign_in_post_without_an_antiforgery_token_is_rejected()
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.PostLoginAsync("owner@demo.virtportal.local", PortalAppFactory.DemoPassword, withAntiforgeryToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];
        Assert.DoesNotContain(cookies, c => c.StartsWith("VirtPortal.Auth=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_password_shows_the_error_and_does_not_sign_in()
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.PostLoginAsync("member@demo.virtportal.local", WrongPassword);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("That email and password do not match an account.", (await response.ReadHtmlAsync()).Body?.TextContent, StringComparison.Ordinal);
        using var home = await browser.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.Equal(AccountForms.LoginPath, home.RedirectTarget().AbsolutePath);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_so_the_right_one_leads_to_lockout()
    {
        // An account no other test in this class signs in with, since the lockout lasts 15 minutes.
        const string email = "approver@demo.virtportal.local";
        using var browser = portal.CreateBrowser();
        for (var attempt = 1; attempt < 5; attempt++)
        {
            using var failed = await browser.PostLoginAsync(email, WrongPassword);
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        // The fifth failure is the one that locks: Identity reports the lockout at once.
        using var fifth = await browser.PostLoginAsync(email, WrongPassword);
        Assert.Equal("/Account/Lockout", fifth.RedirectTarget().AbsolutePath);
        using var response = await browser.PostLoginAsync(email, PortalAppFactory.DemoPassword);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Lockout", response.RedirectTarget().AbsolutePath);
        using var home = await browser.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(AccountForms.LoginPath, home.RedirectTarget().AbsolutePath);
    }
}
