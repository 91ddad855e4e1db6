using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Tests;

/// <summary>
/// The whole portal in memory, in Development, on a SQLite file and a key folder of its own, with a
/// known bootstrap admin and the demo accounts. One per test class (a class fixture), so classes run
/// in parallel without sharing state.
/// </summary>
public class PortalAppFactory : WebApplicationFactory<Program>
{
    public const string AdminEmail = "root@portal.test";
    public const string AdminPassword = "bootstrap-admin-password";
    public const string DemoPassword = "demo-password-for-tests";

    private readonly TempDirectory? ownedDirectory;
    private readonly Dictionary<string, string?> settings;

    public PortalAppFactory()
        : this(null, new Dictionary<string, string?>())
    {
    }

    /// <summary>
    /// A portal with <paramref name="overrides"/> over the test settings, on <paramref name="dataDirectory"/>
    /// (which another factory may have used before: a restart), or on a fresh folder of its own,
    /// deleted on dispose, when that is null.
    /// </summary>
    protected PortalAppFactory(string? dataDirectory, IReadOnlyDictionary<string, string?> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        if (dataDirectory is null)
        {
            ownedDirectory = new TempDirectory();
            dataDirectory = ownedDirectory.Path;
        }

        DataDirectory = dataDirectory;
        settings = new Dictionary<string, string?>
        {
            // No pooling, so that the file is closed (and its folder deletable) once the host stops.
            ["ConnectionStrings:Portal"] = $"Data Source={Path.Combine(dataDirectory, "portal.db")};Pooling=False",
            ["DataDirectory"] = dataDirectory,
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Demo:Enabled"] = "true",
            ["Demo:Password"] = DemoPassword,
            ["Logging:LogLevel:Default"] = "Warning",
            // Far above what a test sends: the limits have tests of their own, which set small ones.
            ["Api:RateLimits:PerToken"] = "1000000",
            ["Api:RateLimits:PerUser"] = "1000000",
            ["Api:RateLimits:SignInPerAddress"] = "1000000",
            // The webhook tests' receivers listen on 127.0.0.1.
            ["Webhooks:AllowPrivateTargets"] = "true",
        };
        foreach (var (key, value) in overrides)
            settings[key] = value;
    }

    public string DataDirectory { get; }

    /// <summary>A browser-like client: keeps cookies and shows redirects instead of following them.</summary>
    public HttpClient CreateBrowser() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>A browser signed in through the real sign-in form.</summary>
    public async Task<HttpClient> SignInAsync(string email, string password)
    {
        var browser = CreateBrowser();
        using var response = await browser.PostLoginAsync(email, password);
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect)
        {
            browser.Dispose();
            throw new InvalidOperationException($"Signing in as {email} answered {(int)response.StatusCode}, not a redirect.");
        }

        return browser;
    }

    public Task<HttpClient> SignInAsDemoAsync(string email) => SignInAsync(email, DemoPassword);

    public async Task<Guid> TenantIdAsync(string name)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await db.Tenants.Where(t => t.Name == name).Select(t => t.Id).SingleAsync();
    }

    public async Task<string> UserIdAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(email)
            ?? throw new InvalidOperationException($"No user {email}.");
        return user.Id;
    }

    /// <summary>The bootstrap admin as a Core actor, for arranging state through the real services.</summary>
    public async Task<Actor> AdminActorAsync() =>
        new(await UserIdAsync(AdminEmail), AdminEmail, new HashSet<string> { GlobalRoles.Admin });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Development");
        // Requests approved in these tests run on the simulated host, even where a local libvirt answers.
        builder.UseSetting("Hosts:FirstRun", "simulated");
        // Never this machine's own PostgreSQL: tests make their databases on servers of their own.
        builder.UseSetting("Databases:FirstRun", "none");
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        ownedDirectory?.Dispose();
        GC.SuppressFinalize(this);
    }
}
