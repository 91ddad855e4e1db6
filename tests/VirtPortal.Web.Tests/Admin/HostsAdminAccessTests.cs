using System.Net;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>The hosts page is for admins only, checked on the server.</summary>
public sealed class HostsAdminAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private static readonly Uri HostsPage = new("/admin/hosts", UriKind.Relative);

    [Fact]
    public async Task An_admin_opens_the_hosts_page_and_sees_the_demo_host_online()
    {
        using var browser = await portal.SignInAsDemoAsync("admin@demo.virtportal.local");

        using var response = await browser.GetAsync(HostsPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.ReadHtmlAsync();
        Assert.NotNull(html.QuerySelector("[data-testid=hosts-table]"));
        Assert.Equal("Online", html.QuerySelector("[data-testid=host-demo-state]")?.TextContent.Trim());
    }

    [Theory]
    [InlineData("member@demo.virtportal.local")]
    [InlineData("owner@demo.virtportal.local")]
    [InlineData("helpdesk@demo.virtportal.local")]
    [InlineData("approver@demo.virtportal.local")]
    public async Task Everyone_else_is_refused_the_hosts_page(string email)
    {
        using var browser = await portal.SignInAsDemoAsync(email);

        using var response = await browser.GetAsync(HostsPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.RedirectTarget().AbsolutePath);
    }
}
