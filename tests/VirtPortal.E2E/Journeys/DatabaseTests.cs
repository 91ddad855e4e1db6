using System.Text.RegularExpressions;
using VirtPortal.Databases.Tests;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>
/// A member's databases in the browser: an embedded SQLite one backed up and downloaded, and a PostgreSQL
/// one on this run's private server, whose password is shown once and is gone after leaving and reloading.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class DatabaseTests(BrowserFixture browser, PostgresServer postgres)
{
    [Fact]
    public async Task A_member_requests_an_SQLite_database_sees_it_running_backs_it_up_and_downloads_the_backup_and_the_file()
    {
        var ct = TestContext.Current.CancellationToken;
        var (tenantId, _) = await browser.Server.NewTenantWithMemberAsync("Notebook Co", "notes@e2e.virtportal.local", "Nora Notes", "notes-password", ct: ct);
        await using var context = await browser.NewContextAsync("notes@e2e.virtportal.local", "notes-password");
        var page = await context.NewPageAsync();

        await RequestAsync(page, tenantId, "notes", "SQLite embedded");
        var database = new DatabasePage(page, "notes");
        await database.OpenFromTenantAsync(tenantId);

        await Expect(database.State).ToHaveAttributeAsync("data-state", "Running");
        await Expect(database.ServerState).ToHaveAttributeAsync("data-state", "Online");
        Assert.Equal("SQLite format 3\0"u8.ToArray(), await DatabasePage.DownloadHeadAsync(page, database.FileDownload));
        await database.BackUp.ClickAsync();
        await Expect(database.BackupDownloads).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        Assert.Equal("SQLite format 3\0"u8.ToArray(), await DatabasePage.DownloadHeadAsync(page, database.BackupDownloads.First));
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "database-page-sqlite.png"), FullPage = true });
    }

    [Fact]
    public async Task A_member_reveals_a_PostgreSQL_password_once_it_connects_and_it_is_gone_after_leaving_and_after_a_reload()
    {
        var ct = TestContext.Current.CancellationToken;
        await browser.Server.RegisterPostgresAsync("e2e-postgres", postgres.AdminConnectionString, ct);
        var (tenantId, _) = await browser.Server.NewTenantWithMemberAsync("Ledger Co", "ledger@e2e.virtportal.local", "Leo Ledger", "ledger-password", ct: ct);
        await using var context = await browser.NewContextAsync("ledger@e2e.virtportal.local", "ledger-password");
        var page = await context.NewPageAsync();

        await RequestAsync(page, tenantId, "ledger", "PostgreSQL small");
        var database = new DatabasePage(page, "ledger");
        await database.OpenFromTenantAsync(tenantId);
        await Expect(database.State).ToHaveAttributeAsync("data-state", "Running");
        var name = (await database.ServerName.TextContentAsync() ?? "").Trim();
        Assert.DoesNotContain("PGPASSWORD", await database.Libpq.TextContentAsync() ?? "", StringComparison.Ordinal);

        await database.Reveal.ClickAsync();
        var password = await database.Password.InputValueAsync();

        Assert.Matches(Password(), password);
        await Expect(database.Libpq).ToContainTextAsync($"{name}_owner:{password}@");
        // The password works: psql, as an independent client, connects with it as the database's owner.
        var connected = await postgres.PsqlAsync($"{name}_owner", password, name, "SELECT current_user");
        Assert.True(connected.ExitCode == 0, connected.Error);
        Assert.Equal($"{name}_owner", connected.Output);
        // Its size and sessions draw from the live hub in the browser, each check of the server adding a point.
        var charts = page.GetByTestId("db-charts").GetByTestId("live-charts");
        await Expect(charts).ToHaveAttributeAsync("data-points", new Regex("^[1-9][0-9]*$"), new() { Timeout = 15_000 });
        var drawn = await charts.GetAttributeAsync("data-points");
        await Expect(charts).Not.ToHaveAttributeAsync("data-points", drawn!, new() { Timeout = 15_000 });
        await Expect(charts.GetByTestId("live-charts-chart-connections")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "database-page-password.png"), FullPage = true });

        // Leaving the page and coming back: the one look is over.
        await database.OpenFromTenantAsync(tenantId);
        await Expect(database.PasswordSeen).ToBeVisibleAsync();
        await Expect(database.Reveal).ToHaveCountAsync(0);
        Assert.DoesNotContain(password, await page.ContentAsync(), StringComparison.Ordinal);

        // Nor does a reload bring it back, in the page the browser shows or in the HTML the server sends.
        await page.ReloadAsync();
        await Expect(database.PasswordSeen).ToBeVisibleAsync();
        Assert.DoesNotContain(password, await page.ContentAsync(), StringComparison.Ordinal);
        var html = await (await page.APIRequest.GetAsync(page.Url)).TextAsync();
        Assert.Contains("ledger", html, StringComparison.Ordinal);
        Assert.DoesNotContain(password, html, StringComparison.Ordinal);
    }

    private async Task RequestAsync(Microsoft.Playwright.IPage page, Guid tenantId, string name, string offering)
    {
        var form = new NewRequestPage(page);
        await form.OpenDatabaseAsync(tenantId);
        await form.FillDatabaseAsync(name, offering);
        await Expect(form.Submit).ToBeEnabledAsync();
        await form.Submit.ClickAsync();
        await Expect(page.GetByTestId("request-title")).ToContainTextAsync(name, new() { Timeout = 30_000 });
        await browser.Server.ApproveTheRequestAsync(tenantId, TestContext.Current.CancellationToken);
        await Expect(page.GetByTestId("request-state")).ToHaveAttributeAsync("data-state", "Completed", new() { Timeout = 30_000 });
    }

    [GeneratedRegex("^[A-Za-z0-9]{32}$")]
    private static partial Regex Password();
}
