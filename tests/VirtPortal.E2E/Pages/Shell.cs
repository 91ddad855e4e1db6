using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

/// <summary>The app bar and navigation drawer around every interactive page.</summary>
public sealed class Shell(IPage page)
{
    public ILocator ThemeToggle => page.GetByTestId("theme-toggle");

    public ILocator Nav(string entry) => page.GetByTestId($"nav-{entry}");

    /// <summary>Opens an app page and waits until it is interactive.</summary>
    public async Task OpenAsync(string path)
    {
        await page.GotoAsync(path);
        await WaitForInteractiveAsync();
    }

    /// <summary>Waits until the circuit is live (the first render is static HTML without handlers).</summary>
    public async Task WaitForInteractiveAsync() =>
        await page.Locator("[data-testid=app-shell][data-interactive=true]").WaitForAsync();

    public async Task SignOutAsync()
    {
        await page.GetByTestId("user-menu").GetByRole(AriaRole.Button, new() { Name = "Account" }).ClickAsync();
        await page.GetByTestId("sign-out").ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/Account/Login", StringComparison.OrdinalIgnoreCase));
    }
}
