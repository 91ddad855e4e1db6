using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

/// <summary>The admins' hosts page and its add/edit dialog.</summary>
public sealed class HostsPage(IPage page)
{
    public IPage Page => page;

    public Task OpenAsync() => new Shell(page).OpenAsync("/admin/hosts");

    public ILocator State(string host) => page.GetByTestId($"host-{host}-state");

    public ILocator Maintenance(string host) => page.GetByTestId($"host-{host}-maintenance");

    public ILocator TestResult => page.GetByTestId("host-form-test-result");

    /// <summary>Opens the add dialog, names a simulated host (its URI follows the name) and tests its connection.</summary>
    public async Task StartAddingSimulatedAsync(string name)
    {
        await page.GetByTestId("host-add").ClickAsync();
        await page.GetByTestId("host-form-name").FillAsync(name);
        // Where libvirt is available it is the default driver.
        await page.GetByTestId("host-form-driver").ClickAsync();
        await page.GetByTestId("host-form-driver-Simulated").ClickAsync();
        await Assertions.Expect(page.GetByTestId("host-form-uri")).ToHaveValueAsync($"simulated://{name}");
        await page.GetByTestId("host-form-test").ClickAsync();
    }

    public Task SaveAsync() => page.GetByTestId("host-form-save").ClickAsync();

    public async Task RemoveAsync(string host)
    {
        await page.GetByTestId($"host-{host}-remove").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Remove", Exact = true }).ClickAsync();
    }
}
