using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;

namespace VirtPortal.Web.Tests.Tenants;

/// <summary>Who may open a tenant's page, through the real sign-in and the server-rendered page.</summary>
public sealed class TenantPageAccessTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    private const string Member = "member@demo.virtportal.local";
    private const string Helpdesk = "helpdesk@demo.virtportal.local";
    private const string Admin = "admin@demo.virtportal.local";

    // Globex's only member: their address must not leak to someone who may not see Globex.
    private const string GlobexMember = "owner@demo.virtportal.local";

    [Fact]
    public async Task A_member_opens_their_own_tenant_page()
    {
        using var browser = await portal.SignInAsDemoAsync(Member);

        using var response = await GetTenantPageAsync(browser, DemoAccounts.AcmeTenant);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.ReadHtmlAsync();
        Assert.Equal(DemoAccounts.AcmeTenant, page.QuerySelector("[data-testid=tenant-title]")?.TextContent.Trim());
        Assert.NotNull(page.QuerySelector($"[data-testid='member-{Member}']"));
    }

    [Fact]
    public async Task A_member_gets_403_on_another_tenant_page_and_sees_none_of_its_members()
    {
        using var browser = await portal.SignInAsDemoAsync(Member);

        using var response = await GetTenantPageAsync(browser, DemoAccounts.GlobexTenant);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("data-testid=\"forbidden\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"member-table\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain(GlobexMember, body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(DemoAccounts.GlobexTenant, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_denied_tenant_page_view_is_audited()
    {
        var globexId = await portal.TenantIdAsync(DemoAccounts.GlobexTenant);
        using var browser = await portal.SignInAsDemoAsync(Member);

        using var response = await browser.GetAsync(new Uri($"/tenants/{globexId}", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        var memberId = await db.Users.Where(u => u.Email == Member).Select(u => u.Id).SingleAsync(TestContext.Current.CancellationToken);
        var denials = await db.AuditEntries
            .Where(e => e.Action == AuditActions.AccessDenied && e.ActorId == memberId && e.Target == $"tenant {globexId}")
            .ToListAsync(TestContext.Current.CancellationToken);
        Assert.NotEmpty(denials);
    }

    [Theory]
    [InlineData(Admin, DemoAccounts.AcmeTenant)]
    [InlineData(Admin, DemoAccounts.GlobexTenant)]
    [InlineData(Helpdesk, DemoAccounts.AcmeTenant)]
    [InlineData(Helpdesk, DemoAccounts.GlobexTenant)]
    public async Task Admin_and_helpdesk_open_every_tenant_page(string staff, string tenant)
    {
        using var browser = await portal.SignInAsDemoAsync(staff);

        using var response = await GetTenantPageAsync(browser, tenant);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.ReadHtmlAsync();
        Assert.Equal(tenant, page.QuerySelector("[data-testid=tenant-title]")?.TextContent.Trim());
    }

    private async Task<HttpResponseMessage> GetTenantPageAsync(HttpClient browser, string tenant) =>
        await browser.GetAsync(new Uri($"/tenants/{await portal.TenantIdAsync(tenant)}", UriKind.Relative), TestContext.Current.CancellationToken);
}
