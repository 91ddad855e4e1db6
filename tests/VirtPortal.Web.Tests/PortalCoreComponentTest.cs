using System.Security.Claims;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using TestContext = Xunit.TestContext;

namespace VirtPortal.Web.Tests;

/// <summary>
/// Base for component tests against the real Core services: a fresh SQLite file per test, the schema,
/// roles and bootstrap admin created by <see cref="PortalInitializer"/> (demo tenants, accounts and
/// catalog too when asked), and bunit's authorization evaluated by the portal's own policies.
/// </summary>
public abstract class PortalCoreComponentTest : PortalComponentTest, IAsyncLifetime
{
    protected const string AdminEmail = "root@portal.test";

    private readonly TempDirectory directory = new();

    /// <param name="demo">Seed the demo tenants, accounts and catalog.</param>
    /// <param name="services">Adds to the Core services before anything is resolved (a fake adapter factory).</param>
    protected PortalCoreComponentTest(bool demo = false, Action<IServiceCollection>? services = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Bootstrap:AdminEmail"] = AdminEmail,
                ["Bootstrap:AdminPassword"] = "bootstrap-admin-password",
                ["Demo:Enabled"] = demo ? "true" : "false",
                ["Hosts:FirstRun"] = "simulated",
                ["Hosts:SimulatedDelays"] = "false",
                ["Databases:FirstRun"] = "none",
                // The embedded databases and backups in this test's own directory, never the working directory.
                ["Databases:SqliteDirectory"] = directory.File("databases"),
                ["Databases:BackupDirectory"] = directory.File("backups"),
            })
            .Build();
        // UserManager resolves its token providers, which need data protection, when it is created.
        Services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        Services.AddPortalCore(configuration, $"Data Source={directory.File("portal.db")};Pooling=False");
        services?.Invoke(Services);
        Authorization = AddPortalAuthorization();
        UseInteractiveServerRenderer();
    }

    protected BunitAuthorizationContext Authorization { get; }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask InitializeAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(Ct);
    }

    /// <summary>Signs the bunit user in with the claims the portal's ActorAccessor reads.</summary>
    protected void SignIn(string userId, string name, params string[] roles)
    {
        Authorization.SetAuthorized(name);
        Authorization.SetRoles(roles);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        directory.Dispose();
    }
}
