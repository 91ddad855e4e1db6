using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

[Collection(BrowserCollection.Name)]
public sealed class VmPageTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_member_opens_the_vm_page_from_the_tenant_page_its_charts_start_in_the_browser_and_a_pause_shows_by_push()
    {
        var ct = TestContext.Current.CancellationToken;
        var (tenantId, _) = await browser.Server.NewTenantWithMemberAsync("Chart Works", "charts@e2e.virtportal.local", "Cora Charts", "charts-password", ct: ct);

        await using var memberContext = await browser.NewContextAsync("charts@e2e.virtportal.local", "charts-password");
        var page = await memberContext.NewPageAsync();
        var form = new NewRequestPage(page);
        await form.OpenAsync(tenantId);
        await form.FillVmAsync("chart-vm", "Debian 12", "small");
        // A small VM is within the default policy's auto-approval limits.
        await form.Submit.ClickAsync();
        await Expect(page.GetByTestId("request-state")).ToHaveAttributeAsync("data-state", "Completed", new() { Timeout = 30_000 });
        await new Shell(page).OpenAsync($"/tenants/{tenantId}");
        await Expect(page.GetByTestId("resource-state-chart-vm")).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 30_000 });

        await page.GetByTestId("vm-chart-vm-link").ClickAsync();

        await Expect(page.GetByTestId("vm-title")).ToHaveTextAsync("chart-vm");
        await Expect(page.GetByTestId("vm-state")).ToHaveAttributeAsync("data-state", "Running");
        // The charts take their points from /hubs/live in the browser: connected, and drawing within 5 s of opening.
        await Expect(page.GetByTestId("live-charts-connection")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 5_000 });
        await Expect(page.GetByTestId("live-charts")).ToHaveAttributeAsync("data-points", new System.Text.RegularExpressions.Regex("^[1-9][0-9]*$"), new() { Timeout = 5_000 });
        var drawn = int.Parse(await page.GetByTestId("live-charts").GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        // And they keep coming, pushed at 1 Hz, without a Blazor render per point.
        await Expect(page.GetByTestId("live-charts")).Not.ToHaveAttributeAsync("data-points", drawn.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 5_000 });

        await page.GetByTestId("vm-chart-vm-suspend").ClickAsync();
        await Expect(page.GetByTestId("vm-state")).ToHaveAttributeAsync("data-state", "Paused", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("vm-chart-vm-resume")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "vm-page.png"), FullPage = true });
    }
}
