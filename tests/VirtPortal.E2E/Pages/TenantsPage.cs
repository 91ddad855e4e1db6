using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

public sealed class TenantsPage(IPage page)
{
    public Task OpenAsync() => new Shell(page).OpenAsync("/tenants");

    public ILocator Row(string name) => page.GetByTestId($"tenant-row-{name}");

    public async Task CreateAsync(string name, string description)
    {
        await page.GetByTestId("tenant-create").ClickAsync();
        await page.GetByTestId("tenant-name").FillAsync(name);
        await page.GetByTestId("tenant-description").FillAsync(description);
        await page.GetByTestId("tenant-save").ClickAsync();
    }
}
