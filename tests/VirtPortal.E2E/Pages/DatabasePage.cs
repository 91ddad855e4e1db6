using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

/// <summary>A database's page: its health, credentials panel and backups.</summary>
public sealed class DatabasePage(IPage page, string name)
{
    public ILocator Title => page.GetByTestId("db-title");

    public ILocator State => page.GetByTestId("db-state");

    public ILocator ServerState => page.GetByTestId("db-server-state");

    public ILocator ServerName => page.GetByTestId("db-server-name");

    public ILocator Reveal => page.GetByTestId("db-password-reveal");

    public ILocator Password => page.GetByTestId("db-password");

    public ILocator PasswordSeen => page.GetByTestId("db-password-seen");

    public ILocator Libpq => page.GetByTestId("db-connection-libpq");

    public ILocator BackUp => page.GetByTestId($"db-{name}-backup");

    public ILocator BackupDownloads => page.Locator("[data-testid^=db-backup-download-]");

    public ILocator FileDownload => page.GetByTestId("db-file-download");

    /// <summary>Opens it from the tenant page's row, as a member would.</summary>
    public async Task OpenFromTenantAsync(Guid tenantId)
    {
        await new Shell(page).OpenAsync($"/tenants/{tenantId}");
        await page.GetByTestId($"db-{name}-link").ClickAsync();
        await Assertions.Expect(Title).ToHaveTextAsync(name);
    }

    /// <summary>Clicks a download link and returns the first bytes of the file the browser saved.</summary>
    public static async Task<byte[]> DownloadHeadAsync(IPage page, ILocator link, int count = 16)
    {
        ArgumentNullException.ThrowIfNull(page);
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        await using var file = await download.CreateReadStreamAsync();
        var head = new byte[count];
        await file.ReadExactlyAsync(head);
        return head;
    }
}
