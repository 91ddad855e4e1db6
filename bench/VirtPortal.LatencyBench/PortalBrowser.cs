using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.LatencyBench;

/// <summary>A state chip change as the page saw it: the time (Unix ms, the page's clock) and the new <c>data-state</c>.</summary>
internal sealed record DomChange(double AtMs, double? FrameMs, string? State);

/// <summary>
/// Headless Debian Chromium signed in as the demo member (the bench's own sign-in cookie): requests the VM
/// through the request form, keeps the tenant page open with a MutationObserver on the VM's state chip,
/// and deletes the VM through the page's delete button at the end.
/// </summary>
internal sealed class PortalBrowser : IAsyncDisposable
{
    private const string Shell = "[data-testid=app-shell][data-interactive=true]";

    // Runs in the page. Any mutation under the body may be the chip's: a re-render can update the attribute
    // in place or replace the row. The observer's callback runs as a microtask right after the DOM change
    // (before layout and paint); the time inside the next animation frame's callback is kept as well.
    private const string ObserverScript = """
        name => {
          const selector = `[data-testid="resource-state-${name}"]`;
          const read = () => document.querySelector(selector)?.getAttribute('data-state') ?? null;
          const changes = [];
          let last = read();
          new MutationObserver(() => {
            const state = read();
            if (state === last) return;
            last = state;
            const change = { at: performance.timeOrigin + performance.now(), frame: null, state };
            changes.push(change);
            requestAnimationFrame(() => { change.frame = performance.timeOrigin + performance.now(); });
          }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
          window.__latencyChanges = changes;
          return last;
        }
        """;

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;
    private readonly IBrowserContext context;

    private PortalBrowser(IPlaywright playwright, IBrowser browser, IBrowserContext context)
    {
        this.playwright = playwright;
        this.browser = browser;
        this.context = context;
    }

    public IPage? TenantPage { get; private set; }

    public static async Task<PortalBrowser> LaunchAsync(Uri baseUrl, CookieContainer cookies)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new() { BaseURL = baseUrl.ToString(), ViewportSize = new() { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(60_000);
        await context.AddCookiesAsync(cookies.GetAllCookies().Select(c => new Microsoft.Playwright.Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, HttpOnly = c.HttpOnly, Secure = c.Secure,
            SameSite = SameSiteAttribute.Lax,
        }));
        return new PortalBrowser(playwright, browser, context);
    }

    /// <summary>The request form, as a member fills it; waits until the request is Completed (the VM runs).</summary>
    public async Task RequestVmAsync(string name, string template, string size)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/requests/new");
        await page.Locator(Shell).WaitForAsync();
        await page.GetByTestId("request-name").FillAsync(name);
        await page.GetByTestId("request-template").ClickAsync();
        await page.GetByTestId($"template-option-{template}").ClickAsync();
        await page.GetByTestId("request-size").ClickAsync();
        await page.GetByTestId($"size-option-{size}").ClickAsync();
        await page.GetByTestId("request-submit").ClickAsync();
        var state = page.GetByTestId("request-state");
        await Expect(state).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("Completed|PendingApproval|Failed|Rejected"), new() { Timeout = 300_000 });
        var reached = await state.GetAttributeAsync("data-state");
        if (reached != "Completed")
            throw new InvalidOperationException($"the request for {name} is {reached}, not Completed: the bench needs a tenant whose policy approves it at once");
        await page.CloseAsync();
    }

    /// <summary>Opens the tenant page, waits for the VM's chip to say Running, and starts observing it.</summary>
    public async Task ObserveAsync(Guid tenantId, string name)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/tenants/{tenantId}");
        await page.Locator(Shell).WaitForAsync();
        await Expect(page.GetByTestId($"resource-state-{name}")).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 300_000 });
        var initial = await page.EvaluateAsync<string?>(ObserverScript, name);
        if (initial != "Running")
            throw new InvalidOperationException($"the chip of {name} says {initial}, not Running");
        TenantPage = page;
    }

    public async Task<IReadOnlyList<DomChange>> ChangesAsync()
    {
        var page = TenantPage ?? throw new InvalidOperationException("not observing");
        var json = await page.EvaluateAsync<JsonElement>("() => window.__latencyChanges");
        return [.. json.EnumerateArray().Select(c => new DomChange(
            c.GetProperty("at").GetDouble(),
            c.GetProperty("frame").ValueKind == JsonValueKind.Number ? c.GetProperty("frame").GetDouble() : null,
            c.GetProperty("state").ValueKind == JsonValueKind.String ? c.GetProperty("state").GetString() : null))];
    }

    /// <summary>The tenant page's delete button and its confirmation (type the name); waits until the row is gone.</summary>
    public async Task DeleteVmAsync(Guid tenantId, string name)
    {
        var page = TenantPage ?? await context.NewPageAsync();
        if (TenantPage is null)
        {
            await page.GotoAsync($"/tenants/{tenantId}");
            await page.Locator(Shell).WaitForAsync();
        }

        var delete = page.GetByTestId($"vm-{name}-delete");
        await Expect(delete).ToBeEnabledAsync(new() { Timeout = 60_000 });
        await delete.ClickAsync();
        await page.GetByTestId("confirm-action-name").FillAsync(name);
        await page.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId($"resource-state-{name}")).ToHaveCountAsync(0, new() { Timeout = 120_000 });
    }

    public async ValueTask DisposeAsync()
    {
        await context.DisposeAsync();
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
