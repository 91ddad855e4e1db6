using System.Net;
using Microsoft.AspNetCore.WebUtilities;

namespace VirtPortal.Web.Tests.Security;

public sealed class AnonymousAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/tenants")]
    [InlineData("/admin/users")]
    [InlineData("/tenants/0195f0d2-8a1c-7e3b-9f4a-2b6c8d0e1f3a")]
    public async Task Anonymous_visitors_are_sent_to_sign_in_with_a_return_url(string path)
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var target = response.RedirectTarget();
        Assert.Equal(AccountForms.LoginPath, target.AbsolutePath);
        Assert.Equal(path, QueryHelpers.ParseQuery(target.Query)["ReturnUrl"].ToString());
    }
}
