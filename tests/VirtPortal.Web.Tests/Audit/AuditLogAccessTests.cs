using System.Net;
using VirtPortal.Core.Demo;

namespace VirtPortal.Web.Tests.Audit;

/// <summary>Who may open the audit log, through the real sign-in and the server-rendered page.</summary>
public sealed class AuditLogAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private static readonly Uri AuditPage = new("/audit", UriKind.Relative);

    [Theory]
    [InlineData("helpdesk@demo.virtportal.local")]
    [InlineData("admin@demo.virtportal.local")]
    [InlineData("owner@demo.virtportal.local")]
    public async Task Helpdesk_admin_and_a_tenant_owner_open_the_audit_log(string email)
    {
        using var browser = await portal.SignInAsDemoAsync(email);

        using var response = await browser.GetAsync(AuditPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.ReadHtmlAsync();
        Assert.NotNull(page.QuerySelector("[data-testid=audit-filter-tenant]"));
        Assert.NotNull(page.QuerySelector("[data-testid=audit-filter-actor]"));
        Assert.NotNull(page.QuerySelector("[data-testid=audit-filter-action]"));
    }

    [Theory]
    [InlineData("member@demo.virtportal.local")]
    [InlineData("approver@demo.virtportal.local")]
    public async Task A_member_or_an_approver_who_owns_no_tenant_is_refused(string email)
    {
        using var browser = await portal.SignInAsDemoAsync(email);

        using var response = await browser.GetAsync(AuditPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("data-testid=\"forbidden\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"audit-log-table\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoAccounts.GlobexTenant, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_sign_in()
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.GetAsync(AuditPage, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.RedirectTarget().AbsolutePath);
    }
}
