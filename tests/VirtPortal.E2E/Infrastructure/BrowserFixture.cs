using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace VirtPortal.E2E.Infrastructure;

/// <summary>
/// One portal and one headless Debian Chromium for the whole E2E run. Each role signs in once through
/// the real sign-in page; later tests reuse its storage state. A missing browser fails the run loudly.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> storageStates = new();
    private IPlaywright? playwright;

    private readonly Lazy<PortalServer> libvirtServer = new(() => new PortalServer("libvirt"), LazyThreadSafetyMode.ExecutionAndPublication);

    public PortalServer Server { get; private set; } = default!;

    /// <summary>A second portal, started on first use, whose host is this machine's libvirt (qemu:///system), for journeys with a real guest.</summary>
    public PortalServer LibvirtServer => libvirtServer.Value;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Where screenshots go: under the test output, so CI keeps them with the results.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async ValueTask InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("VIRTPORTAL_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(chromium))
            throw new InvalidOperationException($"Chromium not found at {chromium}. Install it (apt-get install chromium) or set VIRTPORTAL_CHROMIUM.");

        Server = new PortalServer();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    /// <summary>A fresh browser context, signed in as <paramref name="email"/> when given.</summary>
    public Task<IBrowserContext> NewContextAsync(string? email = null, string? password = null) => NewContextAsync(Server, email, password);

    /// <summary>A fresh browser context on <paramref name="server"/>, signed in as <paramref name="email"/> when given.</summary>
    public async Task<IBrowserContext> NewContextAsync(PortalServer server, string? email, string? password)
    {
        ArgumentNullException.ThrowIfNull(server);
        var options = new BrowserNewContextOptions { BaseURL = server.BaseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 900 } };
        if (email is not null)
            options.StorageState = await storageStates.GetOrAdd($"{server.BaseUrl} {email}", _ => new Lazy<Task<string>>(() => SignInAsync(server, email, password ?? PortalServer.DemoPassword))).Value;
        var context = await Browser.NewContextAsync(options);
        context.SetDefaultTimeout(15_000);
        return context;
    }

    private async Task<string> SignInAsync(PortalServer server, string email, string password)
    {
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = server.BaseUrl });
        var page = await context.NewPageAsync();
        await new Pages.LoginPage(page).SignInAsync(email, password);
        await Assertions.Expect(page.GetByTestId("home-title")).ToBeVisibleAsync();
        return await context.StorageStateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        playwright?.Dispose();
        Server?.Dispose();
        if (libvirtServer.IsValueCreated)
            libvirtServer.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
