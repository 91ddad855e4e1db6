using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests;

/// <summary>
/// The Core services as the web host composes them, over a real SQLite database of their own (a temp
/// file deleted on dispose) and a fake clock. Each test starts one, so tests never share data.
/// </summary>
public sealed class PortalTestHost : IAsyncDisposable
{
    public const string AdminEmail = "admin@test.virtportal.local";
    public const string AdminPassword = "correct-horse-battery-staple";

    private readonly ServiceProvider provider;
    private readonly string databasePath;

    private PortalTestHost(ServiceProvider provider, string databasePath, DirectoryInfo files, TestClock time)
    {
        this.provider = provider;
        this.databasePath = databasePath;
        Files = files;
        Time = time;
    }

    /// <summary>This portal's own directory for files: its embedded SQLite databases (databases/) and backups (backups/).</summary>
    public DirectoryInfo Files { get; }

    public TestClock Time { get; }

    public IServiceProvider Services => provider;

    public TenantService Tenants => provider.GetRequiredService<TenantService>();

    public UserAdministration Users => provider.GetRequiredService<UserAdministration>();

    /// <summary>
    /// Builds the services. <paramref name="settings"/> override the defaults (a configured admin, demo
    /// off); a null value removes the key. <paramref name="services"/> adds to them (a fake adapter
    /// factory). With <paramref name="initialize"/> the schema, roles and admin are created before the
    /// host is returned.
    /// </summary>
    public static async Task<PortalTestHost> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null, bool initialize = true, Action<IServiceCollection>? services = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Demo:Enabled"] = "false",
            // The simulated host's realistic delays would wait on the fake clock for ever.
            ["Hosts:SimulatedDelays"] = "false",
            // Never this machine's own PostgreSQL: tests that need one register their own server.
            ["Databases:FirstRun"] = "none",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            if (value is null)
                values.Remove(key);
            else
                values[key] = value;
        }

        var files = Directory.CreateTempSubdirectory("virtportal-core-tests-files-");
        values.TryAdd("Databases:SqliteDirectory", Path.Combine(files.FullName, "databases"));
        values.TryAdd("Databases:BackupDirectory", Path.Combine(files.FullName, "backups"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var databasePath = Path.Combine(Path.GetTempPath(), $"virtportal-core-tests-{Guid.NewGuid():N}.db");
        var time = new TestClock(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

        var collection = new ServiceCollection();
        collection.AddLogging();
        // Registered before AddPortalCore, whose TryAdd then keeps it.
        collection.AddSingleton<TimeProvider>(time);
        // The web host adds data protection (for invite tokens) with its cookies; here it lives in memory.
        collection.AddDataProtection();
        // No pooling, so that no connection keeps the file open once a test is done.
        collection.AddPortalCore(configuration, $"Data Source={databasePath};Pooling=False");
        services?.Invoke(collection);

        var host = new PortalTestHost(collection.BuildServiceProvider(validateScopes: true), databasePath, files, time);
        if (initialize)
            await host.InitializeAsync();
        return host;
    }

    /// <summary>What the web host runs at start-up, in a scope of its own.</summary>
    public async Task<BootstrapResult> InitializeAsync()
    {
        await using var scope = provider.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A fresh context for arranging and asserting; dispose it.</summary>
    public PortalDbContext NewDb() => provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();

    /// <summary>The adapter of the one host a test portal has: the simulated "demo" host.</summary>
    public async Task<SimulatedHypervisor> DemoHostAsync()
    {
        await using var db = NewDb();
        var demo = await db.Hosts.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken);
        return (SimulatedHypervisor)provider.GetRequiredService<HypervisorRegistry>().For(demo);
    }

    /// <summary>Runs <paramref name="action"/> with a UserManager of its own scope.</summary>
    public async Task<T> WithUserManagerAsync<T>(Func<UserManager<PortalUser>, Task<T>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        await using var scope = provider.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>());
    }

    public async Task<PortalUser> FindUserAsync(string userId)
    {
        await using var db = NewDb();
        return await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId, TestContext.Current.CancellationToken);
    }

    /// <summary>The bootstrap admin, as the web host would describe them after sign-in.</summary>
    public async Task<Actor> AdminAsync()
    {
        await using var db = NewDb();
        var id = await db.Users.Where(u => u.Email == AdminEmail).Select(u => u.Id).SingleAsync(TestContext.Current.CancellationToken);
        return new Actor(id, AdminEmail, new HashSet<string> { GlobalRoles.Admin });
    }

    /// <summary>An invited user (no password: hashing is slow on purpose) with the given global roles.</summary>
    public async Task<Actor> CreateUserAsync(string email, params string[] roles)
    {
        var created = await Users.CreateAsync(Actor.System, new NewUser(email, "", roles), TestContext.Current.CancellationToken);
        return new Actor(created.UserId, email, roles.ToHashSet());
    }

    /// <summary>A tenant with the default quota and the given members.</summary>
    public async Task<Guid> CreateTenantAsync(string name, params (Actor User, TenantRole Role)[] members)
    {
        var ct = TestContext.Current.CancellationToken;
        var id = await Tenants.CreateAsync(Actor.System, name, null, TenantQuota.Default, ct);
        foreach (var (user, role) in members)
            await Tenants.AddMemberAsync(Actor.System, id, user.Name, role, ct);
        return id;
    }

    public async Task<List<AuditEntry>> AuditAsync(string action)
    {
        await using var db = NewDb();
        return await db.AuditEntries.AsNoTracking().Where(e => e.Action == action).OrderBy(e => e.Id)
            .ToListAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await provider.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(databasePath + suffix);
        Files.Delete(recursive: true);
    }
}

/// <summary>Gives each test of a class its own <see cref="PortalTestHost"/>, started with the defaults.</summary>
public abstract class PortalTestBase : IAsyncLifetime
{
    private PortalTestHost? host;

    protected PortalTestHost Host => host ?? throw new InvalidOperationException("The host starts before each test.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => host = await PortalTestHost.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
