using System.Net;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>The database servers page is for admins only, checked on the server.</summary>
public sealed class DatabaseServersAdminAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private static readonly Uri Page = new(PortalRoutes.AdminDatabaseServers, UriKind.Relative);

    [Fact]
    public async Task An_admin_opens_the_page_and_sees_the_embedded_server_online()
    {
        using var browser = await portal.SignInAsDemoAsync("admin@demo.virtportal.local");

        using var response = await browser.GetAsync(Page, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.ReadHtmlAsync();
        Assert.NotNull(html.QuerySelector("[data-testid=database-servers-table]"));
        Assert.Equal("Online", html.QuerySelector("[data-testid=database-server-embedded-state]")?.TextContent.Trim());
    }

    [Theory]
    [InlineData("member@demo.virtportal.local")]
    [InlineData("owner@demo.virtportal.local")]
    [InlineData("helpdesk@demo.virtportal.local")]
    [InlineData("approver@demo.virtportal.local")]
    public async Task Everyone_else_is_refused_the_page(string email)
    {
        using var browser = await portal.SignInAsDemoAsync(email);

        using var response = await browser.GetAsync(Page, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.RedirectTarget().AbsolutePath);
    }
}
