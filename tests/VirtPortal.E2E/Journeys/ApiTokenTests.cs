using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using VirtPortal.Core.Users;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>A person makes a personal API token from the user menu, a script uses it over HTTP, and revoking it on the page stops the script.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiTokenTests(BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_token_made_on_the_page_is_shown_once_works_for_a_script_and_stops_when_revoked()
    {
        const string email = "token-maker@e2e.virtportal.local";
        const string password = "token-maker-password";
        var admin = new Actor("e2e", "e2e", new HashSet<string> { GlobalRoles.Admin });
        await browser.Server.Services.GetRequiredService<UserAdministration>().CreateAsync(admin, new NewUser(email, "Token Maker", [], Password: password), Ct);
        await using var context = await browser.NewContextAsync(email, password);
        var page = await context.NewPageAsync();
        var shell = new Shell(page);
        await shell.OpenAsync("/");

        await page.GetByTestId("user-menu").GetByRole(AriaRole.Button, new() { Name = "Account" }).ClickAsync();
        await page.GetByTestId("user-menu-tokens").ClickAsync();
        await shell.WaitForInteractiveAsync();
        await page.GetByTestId("token-name").FillAsync("ci-pipeline");
        await page.GetByTestId("token-create").ClickAsync();

        var secretField = page.GetByTestId("token-secret");
        await Expect(secretField).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^vpt_[A-Za-z0-9_-]{43}$"));
        var secret = await secretField.InputValueAsync();
        await Expect(page.GetByTestId("token-ci-pipeline-last-used")).ToHaveTextAsync("never");

        using var script = new HttpClient { BaseAddress = new Uri(browser.Server.BaseUrl) };
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using (var listed = await script.GetAsync("/api/v1/tokens", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            var body = await listed.Content.ReadAsStringAsync(Ct);
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
            using var json = JsonDocument.Parse(body);
            Assert.Contains(json.RootElement.GetProperty("items").EnumerateArray(), t => t.GetProperty("name").GetString() == "ci-pipeline");
        }

        // Shown once: after a reload the page has the token's row and when it was used, never its secret.
        await page.ReloadAsync();
        await shell.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("token-secret")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("token-ci-pipeline-last-used")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(" UTC$"));
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GetByTestId("token-ci-pipeline-revoke").ClickAsync();
        await page.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId("token-ci-pipeline-state")).ToHaveTextAsync("Revoked");

        using var refused = await script.GetAsync("/api/v1/tokens", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "tokens-revoked.png") });
    }
}
