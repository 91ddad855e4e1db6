using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>The tenant dashboard and the admins' host load follow the estate by push, on pages that stay open.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_tenant_dashboard_counts_quota_and_spend_follow_a_vm_through_pause_and_delete_without_a_reload()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = browser.Server.Services;
        var admin = new Actor("e2e", "e2e", new HashSet<string> { GlobalRoles.Admin });
        var tenantId = await services.GetRequiredService<TenantService>().CreateAsync(admin, "Dashboard Dept", "", TenantQuota.Default, ct);
        var created = await services.GetRequiredService<UserAdministration>().CreateAsync(admin,
            new NewUser("dash@e2e.virtportal.local", "Dana Dash", [], tenantId, TenantRole.Member, "dashboard-password"), ct);
        var member = new Actor(created.UserId, "Dana Dash", new HashSet<string>());

        await using var memberContext = await browser.NewContextAsync("dash@e2e.virtportal.local", "dashboard-password");
        var tenantPage = await memberContext.NewPageAsync();
        await new Shell(tenantPage).OpenAsync($"/tenants/{tenantId}");
        var vms = tenantPage.GetByTestId("dashboard-vms");
        var vmQuota = tenantPage.GetByTestId("quota-use-vms");
        await Expect(vms).ToHaveAttributeAsync("data-running", "0");
        await Expect(vmQuota).ToHaveAttributeAsync("data-used", "0");
        await Expect(vmQuota).ToHaveAttributeAsync("data-limit", TenantQuota.Default.Vms.ToString(CultureInfo.InvariantCulture));
        await Expect(tenantPage.GetByTestId("spend-rate")).ToHaveTextAsync(RateOf("0.00"));

        var form = new NewRequestPage(await memberContext.NewPageAsync());
        await form.OpenAsync(tenantId);
        await form.FillVmAsync("dash-vm", "Debian 12", "medium");
        await form.Submit.ClickAsync();
        var requests = services.GetRequiredService<RequestQueries>();
        for (var waited = 0; waited < 150 && (await requests.ListForTenantAsync(admin, tenantId, ct)).Count == 0; waited++)
            await Task.Delay(100, ct);
        var request = Assert.Single(await requests.ListForTenantAsync(admin, tenantId, ct));
        if (request.State == RequestState.PendingApproval)
            await services.GetRequiredService<RequestDecisions>().ApproveAsync(admin, request.Id, ct);

        // Running: counted, in the quota, and priced at the medium size's 0.04 an hour (the Debian template is free).
        await Expect(vms).ToHaveAttributeAsync("data-running", "1", new() { Timeout = 30_000 });
        await Expect(vmQuota).ToHaveAttributeAsync("data-used", "1");
        await Expect(tenantPage.GetByTestId("quota-use-vcpus")).ToHaveAttributeAsync("data-used", "2");
        await Expect(tenantPage.GetByTestId("spend-rate")).ToHaveTextAsync(RateOf("0.04"));

        var vm = Assert.Single(await services.GetRequiredService<ResourceQueries>().ListAsync(member, tenantId, ct));
        await services.GetRequiredService<ResourceActions>().RequestAsync(member, vm.Id, OperationKind.Suspend, ct: ct);
        await Expect(vms).ToHaveAttributeAsync("data-paused", "1", new() { Timeout = 30_000 });
        await Expect(vms).ToHaveAttributeAsync("data-running", "0");
        await Expect(tenantPage.GetByTestId("dashboard-vms-paused")).ToContainTextAsync("1 paused");
        await tenantPage.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "tenant-dashboard.png"), FullPage = true });

        // Deleted: out of the counts and the quota, and it costs nothing more from now on.
        await services.GetRequiredService<ResourceActions>().RequestAsync(member, vm.Id, OperationKind.Delete, "dash-vm", ct);
        await Expect(vmQuota).ToHaveAttributeAsync("data-used", "0", new() { Timeout = 30_000 });
        await Expect(vms).ToHaveAttributeAsync("data-paused", "0");
        await Expect(tenantPage.GetByTestId("spend-rate")).ToHaveTextAsync(RateOf("0.00"));
    }

    [Fact]
    public async Task The_admins_host_load_cell_takes_each_new_sample_by_push()
    {
        await using var adminContext = await browser.NewContextAsync("admin@demo.virtportal.local");
        var hosts = new HostsPage(await adminContext.NewPageAsync());
        await hosts.OpenAsync();
        var load = hosts.Page.GetByTestId("host-demo-load");
        await hosts.Page.EvaluateAsync("() => { window.vpSameDocument = true; }");
        await Expect(load).ToHaveAttributeAsync("data-answered", "true", new() { Timeout = 15_000 });
        await Expect(hosts.Page.GetByTestId("host-estate")).ToBeVisibleAsync();

        // The collector samples every second here; each sample is a hostSampled push, not a reload.
        var first = long.Parse(await load.GetAttributeAsync("data-sampled-at") ?? "0", CultureInfo.InvariantCulture);
        var later = first;
        for (var waited = 0; waited < 100 && later <= first; waited++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            later = long.Parse(await load.GetAttributeAsync("data-sampled-at") ?? "0", CultureInfo.InvariantCulture);
        }

        Assert.True(later > first, $"the host's load cell still shows the sample of {first} after 10 s");
        Assert.True(await hosts.Page.EvaluateAsync<bool>("() => window.vpSameDocument === true"), "the page was reloaded");
    }

    private static Regex RateOf(string hourly) => new($"Now {Regex.Escape(hourly).Replace(@"\.", "[.,]", StringComparison.Ordinal)} an hour");
}
