using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

[Collection(BrowserCollection.Name)]
public sealed class HostAdministrationTests(BrowserFixture browser)
{
    [Fact]
    public async Task An_admin_tests_and_adds_a_simulated_host_and_its_maintenance_shows_live_on_another_admin_page()
    {
        await using var adminContext = await browser.NewContextAsync("admin@demo.virtportal.local");
        var watcher = new HostsPage(await adminContext.NewPageAsync());
        await watcher.OpenAsync();
        var hosts = new HostsPage(await adminContext.NewPageAsync());
        await hosts.OpenAsync();

        await hosts.StartAddingSimulatedAsync("e2e-rack");
        await Expect(hosts.TestResult).ToContainTextAsync("e2e-rack answered: 32 CPUs");
        await hosts.SaveAsync();
        await Expect(hosts.State("e2e-rack")).ToHaveTextAsync("Online");
        await Expect(watcher.State("e2e-rack")).ToHaveTextAsync("Online");
        await watcher.Page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "hosts.png"), FullPage = true });

        await hosts.Maintenance("e2e-rack").ClickAsync();
        await Expect(watcher.State("e2e-rack")).ToHaveTextAsync("Maintenance");
        await hosts.Maintenance("e2e-rack").ClickAsync();
        await Expect(watcher.State("e2e-rack")).ToHaveTextAsync("Online");

        // Other journeys share this portal: leave it with the hosts it had.
        await hosts.RemoveAsync("e2e-rack");
        await Expect(watcher.State("e2e-rack")).ToHaveCountAsync(0);
    }
}
