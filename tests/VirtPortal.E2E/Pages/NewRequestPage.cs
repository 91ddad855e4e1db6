using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

/// <summary>The new-request form and its pre-flight panel.</summary>
public sealed class NewRequestPage(IPage page)
{
    public ILocator Verdict => page.GetByTestId("preflight-verdict");

    public ILocator Submit => page.GetByTestId("request-submit");

    public ILocator SubmitReason => page.GetByTestId("request-submit-reason");

    public async Task OpenAsync(Guid? tenantId = null) =>
        await new Shell(page).OpenAsync(tenantId is { } id ? $"/requests/new?tenant={id}" : "/requests/new");

    public async Task FillVmAsync(string name, string template, string size)
    {
        await page.GetByTestId("request-name").FillAsync(name);
        await page.GetByTestId("request-template").ClickAsync();
        await page.GetByTestId($"template-option-{template}").ClickAsync();
        await page.GetByTestId("request-size").ClickAsync();
        await page.GetByTestId($"size-option-{size}").ClickAsync();
    }

    /// <summary>The form opened on a new database for the tenant.</summary>
    public async Task OpenDatabaseAsync(Guid tenantId) => await new Shell(page).OpenAsync($"/requests/new?tenant={tenantId}&kind=newdatabase");

    public async Task FillDatabaseAsync(string name, string offering)
    {
        await page.GetByTestId("request-name").FillAsync(name);
        await page.GetByTestId("request-offering").ClickAsync();
        await page.GetByTestId($"offering-option-{offering}").ClickAsync();
    }
}
