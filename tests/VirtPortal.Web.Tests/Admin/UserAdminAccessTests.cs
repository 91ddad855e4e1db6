using System.Net;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>The user administration page is for admins only, checked on the server.</summary>
public sealed class UserAdminAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private static readonly Uri UsersPage = new("/admin/users", UriKind.Relative);

    [Fact]
    public async Task An_admin_opens_the_users_page()
    {
        using var browser = await portal.SignInAsDemoAsync("admin@demo.virtportal.local");

        using var response = await browser.GetAsync(UsersPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await response.ReadHtmlAsync()).QuerySelector("[data-testid=user-table]"));
    }

    [Theory]
    [InlineData("member@demo.virtportal.local")]
    [InlineData("helpdesk@demo.virtportal.local")]
    [InlineData("approver@demo.virtportal.local")]
    public async Task Everyone_else_is_refused_the_users_page(string email)
    {
        using var browser = await portal.SignInAsDemoAsync(email);

        using var response = await browser.GetAsync(UsersPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.RedirectTarget().AbsolutePath);
    }
}
