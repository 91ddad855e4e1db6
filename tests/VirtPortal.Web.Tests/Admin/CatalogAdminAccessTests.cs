using System.Net;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>The catalog administration page is for admins only, checked on the server.</summary>
public sealed class CatalogAdminAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private static readonly Uri CatalogPage = new("/admin/catalog", UriKind.Relative);

    [Fact]
    public async Task An_admin_opens_the_catalog_page_and_sees_the_demo_templates()
    {
        using var browser = await portal.SignInAsDemoAsync("admin@demo.virtportal.local");

        using var response = await browser.GetAsync(CatalogPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.ReadHtmlAsync();
        Assert.NotNull(html.QuerySelector("[data-testid=catalog-tab-templates]"));
        Assert.NotNull(html.QuerySelector("[data-testid='template-row-Debian 12']"));
    }

    [Theory]
    [InlineData("member@demo.virtportal.local")]
    [InlineData("owner@demo.virtportal.local")]
    [InlineData("helpdesk@demo.virtportal.local")]
    [InlineData("approver@demo.virtportal.local")]
    public async Task Everyone_else_is_refused_the_catalog_page(string email)
    {
        using var browser = await portal.SignInAsDemoAsync(email);

        using var response = await browser.GetAsync(CatalogPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/AccessDenied", response.RedirectTarget().AbsolutePath);
    }
}
