using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>
/// A tenant owner subscribes a receiver on the webhooks page, sees a refused URL explained next to its field, sends a
/// test event, watches it arrive in the delivery log by push and redelivers it; the receiver, written here, checks
/// each signature with its own code.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WebhookTests(BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_owner_subscribes_a_receiver_sends_a_test_event_and_redelivers_it_each_signed_with_the_secret_shown_once()
    {
        const string email = "hook-owner@e2e.virtportal.local";
        const string password = "hook-owner-password";
        var tenantId = await browser.Server.Services.GetRequiredService<TenantService>().CreateAsync(Arrange.Admin, "e2e-hooks", "", TenantQuota.Default, Ct);
        await browser.Server.Services.GetRequiredService<UserAdministration>().CreateAsync(Arrange.Admin,
            new NewUser(email, "Hook Owner", [], tenantId, TenantRole.Owner, password), Ct);
        await using var receiver = await Receiver.StartAsync(Ct);
        await using var context = await browser.NewContextAsync(email, password);
        var page = await context.NewPageAsync();
        var shell = new Shell(page);
        await shell.OpenAsync("/");

        await page.GetByTestId("nav-webhooks").ClickAsync();
        await shell.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("webhooks-empty")).ToBeVisibleAsync();

        // A cloud's metadata address is refused next to the field, and nothing is made.
        var url = page.GetByTestId("webhook-form").GetByTestId("webhook-url");
        await url.FillAsync("http://169.254.169.254/latest/meta-data/");
        await page.GetByTestId("webhook-create").ClickAsync();
        await Expect(page.GetByTestId("webhook-form")).ToContainTextAsync("169.254.169.254 is a link-local or metadata address: webhooks cannot be sent there.");
        await Expect(page.GetByTestId("webhooks-empty")).ToBeVisibleAsync();

        await url.FillAsync(receiver.Url);
        await page.GetByTestId("webhook-create").ClickAsync();
        var secretField = page.GetByTestId("webhook-secret");
        await Expect(secretField).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^whsec_[A-Za-z0-9+/]+=*$"));
        receiver.Secret = await secretField.InputValueAsync();
        var row = page.GetByTestId("webhooks").Locator("tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync(receiver.Url);

        await row.GetByRole(AriaRole.Link).ClickAsync();
        await shell.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("deliveries-empty")).ToBeVisibleAsync();
        await page.GetByTestId("webhook-test").ClickAsync();

        // The log fills by push as the dispatcher delivers: no reload.
        var deliveries = page.GetByTestId("deliveries").Locator("tbody tr");
        await Expect(deliveries).ToHaveCountAsync(1);
        await Expect(deliveries.First).ToContainTextAsync("webhook.test");
        await Expect(deliveries.First.Locator("[data-testid$='-state']")).ToHaveTextAsync("Succeeded");
        await Expect(deliveries.First.Locator("[data-testid$='-status']")).ToHaveTextAsync("204");
        var first = Assert.Single(receiver.Received);
        Assert.True(first.SignatureValid, "the test event's signature does not verify with the secret shown");
        Assert.Equal("webhook.test", first.Type);

        await deliveries.First.GetByRole(AriaRole.Button, new() { Name = "Redeliver" }).ClickAsync();
        await Expect(deliveries).ToHaveCountAsync(2);
        await Expect(deliveries.First).ToContainTextAsync("webhook.test (again)");
        await Expect(deliveries.First.Locator("[data-testid$='-state']")).ToHaveTextAsync("Succeeded");
        Assert.Equal(2, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.True(r.SignatureValid, "a delivery's signature does not verify"));
        Assert.Equal(first.Body, receiver.Received.Last().Body);

        // Shown once: the secret is not on the page once it is left.
        await page.ReloadAsync();
        await shell.WaitForInteractiveAsync();
        Assert.DoesNotContain(receiver.Secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "webhook-deliveries.png") });
    }

    /// <summary>A receiver of our own on 127.0.0.1: it answers 204 and checks the Standard Webhooks signature by itself.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication app;

        private Receiver(WebApplication app) => this.app = app;

        public sealed record Delivery(string Id, string Type, string Body, bool SignatureValid);

        public ConcurrentQueue<Delivery> Received { get; } = new();

        public string Secret { get; set; } = "";

        public string Url => app.Urls.Single() + "/hooks";

        public static async Task<Receiver> StartAsync(CancellationToken ct)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hooks", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                var body = await reader.ReadToEndAsync(ct);
                var id = request.Headers["webhook-id"].ToString();
                var timestamp = request.Headers["webhook-timestamp"].ToString();
                var signatures = request.Headers["webhook-signature"].ToString().Split(' ');
                using var json = JsonDocument.Parse(body);
                receiver.Received.Enqueue(new Delivery(id, json.RootElement.GetProperty("type").GetString() ?? "", body,
                    Verify(receiver.Secret, id, timestamp, body, signatures)));
                return Results.NoContent();
            });
            await app.StartAsync(ct);
            return receiver;
        }

        private static bool Verify(string secret, string id, string timestamp, string body, string[] signatures)
        {
            if (!secret.StartsWith("whsec_", StringComparison.Ordinal) || !long.TryParse(timestamp, out var seconds)
                || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
                return false;
            var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
            return signatures.Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
