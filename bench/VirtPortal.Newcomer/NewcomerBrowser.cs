using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.Newcomer;

/// <summary>What the newcomer's browser saw, in milliseconds, and when (UTC) the submit was clicked and Completed shown.</summary>
internal sealed record BrowserTimes(
    double SignInPageLoad, double SignIn, double FormReady, double SubmitToRequestPage, double SubmitToRunning,
    DateTimeOffset SubmitClickedAt, DateTimeOffset RunningShownAt);

/// <summary>
/// Debian's Chromium, headless, driven as a newcomer would: the sign-in page, the demo member's
/// account, the new-request form, submit, then the request page until it shows the VM Running. No
/// reloads: the request page changes only by Blazor Server's push.
/// </summary>
internal static class NewcomerBrowser
{
    public static readonly string ScreenshotDirectory = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    /// <summary>Chromium starts before the clock (a newcomer's browser is already open).</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium))
            throw new BenchException($"{chromium} not found: apt-get install chromium (never `playwright install`).");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = ChromiumArgs });
    }

    /// <summary>
    /// Signs in, requests the VM and waits until the request page shows it Running. <paramref name="beforeSubmit"/>
    /// runs with the form filled, just before the click (the bench takes the libvirt lock there).
    /// </summary>
    public static async Task<BrowserTimes> RequestVmAsync(IBrowser browser, string baseUrl, string vmName, Func<Task> beforeSubmit, TimeSpan runningTimeout)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            await page.GotoAsync("/Account/Login");
            var signInPageLoad = clock.Elapsed.TotalMilliseconds;

            await page.GetByTestId("login-email").FillAsync(Options.MemberEmail);
            await page.GetByTestId("login-password").FillAsync(Options.DemoPassword);
            clock.Restart();
            await page.GetByTestId("login-submit").ClickAsync();
            await page.GetByTestId("home-title").WaitForAsync();
            var signIn = clock.Elapsed.TotalMilliseconds;

            clock.Restart();
            await page.GotoAsync("/requests/new");
            await page.Locator("[data-testid=app-shell][data-interactive=true]").WaitForAsync();
            await page.GetByTestId("request-name").WaitForAsync();
            var formReady = clock.Elapsed.TotalMilliseconds;

            await page.GetByTestId("request-name").FillAsync(vmName);
            await page.GetByTestId("request-template").ClickAsync();
            await page.GetByTestId($"template-option-{Options.Template}").ClickAsync();
            await page.GetByTestId("request-size").ClickAsync();
            await page.GetByTestId($"size-option-{Options.Size}").ClickAsync();
            var justification = page.GetByTestId("request-justification");
            await justification.FillAsync("Trying the portal out: my first VM.");
            await justification.PressAsync("Tab"); // the justification commits on change
            await Expect(page.GetByTestId("preflight-verdict")).ToHaveAttributeAsync("data-auto", "true");
            var submit = page.GetByTestId("request-submit");
            await Expect(submit).ToBeEnabledAsync();

            await beforeSubmit();
            var clickedAt = DateTimeOffset.UtcNow;
            clock.Restart();
            await submit.ClickAsync();

            // Both waits poll in the page on every animation frame and report the page's own clock, so
            // the figures do not include Playwright's polling interval.
            var shown = await PageTimeAsync(page,
                "name => (document.querySelector('[data-testid=request-title]')?.textContent ?? '').includes(name) && location.pathname.startsWith('/requests/') && !location.pathname.endsWith('/new') ? String(Date.now()) : null",
                vmName, TimeSpan.FromSeconds(30));
            var final = await PageTimeAsync(page,
                "() => { const s = document.querySelector('[data-testid=request-state]')?.getAttribute('data-state'); return ['Completed', 'Failed', 'Rejected', 'Cancelled', 'Expired'].includes(s) ? Date.now() + ' ' + s : null; }",
                null, runningTimeout);
            var parts = final.Split(' ');
            var runningAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[0], CultureInfo.InvariantCulture));
            if (parts[1] != "Completed")
                throw new BenchException($"the request ended {parts[1]}: {await page.GetByTestId("request-timeline").InnerTextAsync()}");
            var timeline = await page.GetByTestId("request-timeline").InnerTextAsync();
            if (!timeline.Contains($"{vmName} is running", StringComparison.Ordinal))
                throw new BenchException($"the request completed but the VM is not running: {timeline}");

            var shownAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(shown, CultureInfo.InvariantCulture));
            return new BrowserTimes(signInPageLoad, signIn, formReady, (shownAt - clickedAt).TotalMilliseconds,
                (runningAt - clickedAt).TotalMilliseconds, clickedAt, runningAt);
        }
        catch (Exception error) when (error is PlaywrightException or TimeoutException or BenchException)
        {
            Directory.CreateDirectory(ScreenshotDirectory);
            var shot = Path.Combine(ScreenshotDirectory, $"newcomer-{vmName}-failure.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            throw new BenchException($"{error.Message} (screenshot {shot})");
        }
    }

    private static async Task<string> PageTimeAsync(IPage page, string function, object? arg, TimeSpan timeout)
    {
        var handle = await page.WaitForFunctionAsync(function, arg, new PageWaitForFunctionOptions
        {
            PollingInterval = null, // requestAnimationFrame
            Timeout = (float)timeout.TotalMilliseconds,
        });
        return await handle.JsonValueAsync<string>();
    }
}
