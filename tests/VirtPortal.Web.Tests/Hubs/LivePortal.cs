using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>A user a test made for itself: the address it signs in with and the Core actor it is.</summary>
public sealed record LiveUser(string Email, Actor Actor)
{
    public string UserId => Actor.UserId;
}

/// <summary>
/// The portal on a real Kestrel socket (so websockets are real), revalidating live connections every
/// second, with one extra trusted origin. Tests arrange their own users, tenants and resources through
/// the real services: nothing is shared with the demo data or with another test.
/// </summary>
public class LivePortal : PortalAppFactory
{
    public const string TrustedOrigin = "https://ops.example.test";
    public const string Password = "live-hub-test-Passw0rd!";
    public static readonly TimeSpan RevalidationInterval = TimeSpan.FromSeconds(1);

    public LivePortal()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>The same portal with <paramref name="overrides"/> over its settings (the console's tests use it).</summary>
    protected LivePortal(IReadOnlyDictionary<string, string?> overrides)
        : base(null, new Dictionary<string, string?>(overrides)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Live:RevalidationInterval"] = "00:00:01",
            ["Live:AllowedOrigins:0"] = TrustedOrigin,
        })
    {
        UseKestrel(0);
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
    }

    public Uri BaseAddress { get; }

    /// <summary>The portal's own origin, as a browser on its pages sends it.</summary>
    public string OwnOrigin => BaseAddress.GetLeftPart(UriPartial.Authority);

    public Uri HubUrl => new(BaseAddress, LiveHub.Path.TrimStart('/'));

    public LiveUpdates Live => Services.GetRequiredService<LiveUpdates>();

    public async Task<LiveUser> CreateUserAsync(string? role = null)
    {
        var email = $"{Guid.NewGuid():N}@live.test";
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = email, CreatedAt = DateTimeOffset.UtcNow };
        Check(await users.CreateAsync(user, Password));
        if (role is not null)
            Check(await users.AddToRoleAsync(user, role));
        return new LiveUser(email, new Actor(user.Id, email, role is null ? new HashSet<string>() : new HashSet<string> { role }));
    }

    /// <summary>A tenant of its own, with these members, made by the bootstrap admin through the tenant service.</summary>
    public async Task<Guid> CreateTenantAsync(params (LiveUser User, TenantRole Role)[] members)
    {
        var tenants = Services.GetRequiredService<TenantService>();
        var admin = await AdminActorAsync();
        var ct = TestContext.Current.CancellationToken;
        var id = await tenants.CreateAsync(admin, $"live-{Guid.NewGuid():N}"[..20], null, TenantQuota.Default, ct);
        foreach (var (user, role) in members)
            await tenants.AddMemberAsync(admin, id, user.Email, role, ct);
        return id;
    }

    /// <summary>A running VM of the tenant, stored as provisioning leaves one.</summary>
    public Task<Guid> CreateVmAsync(Guid tenantId) => CreateResourceAsync(tenantId, ResourceKind.Vm);

    /// <summary>A running database of the tenant (its record only: the hub relays what its server's check publishes).</summary>
    public Task<Guid> CreateDatabaseAsync(Guid tenantId) => CreateResourceAsync(tenantId, ResourceKind.Database);

    private async Task<Guid> CreateResourceAsync(Guid tenantId, ResourceKind kind)
    {
        var now = DateTimeOffset.UtcNow;
        var resource = new Resource
        {
            Id = Guid.CreateVersion7(now), TenantId = tenantId, Name = $"{(kind == ResourceKind.Vm ? "vm-" : "db_")}{Guid.NewGuid():N}"[..12], Kind = kind,
            State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(30), Version = 1,
        };
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        db.Resources.Add(resource);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return resource.Id;
    }

    /// <summary>A member reboots the VM through the resource actions: its version goes up and the change is published.</summary>
    public Task RebootAsync(LiveUser member, Guid resourceId) =>
        Services.GetRequiredService<ResourceActions>().RequestAsync(member.Actor, resourceId, OperationKind.Reboot, null, TestContext.Current.CancellationToken);

    /// <summary>A member asks for more quota: a new request, waiting for an approver, is published.</summary>
    public Task<Guid> SubmitQuotaRequestAsync(LiveUser member, Guid tenantId) =>
        Services.GetRequiredService<RequestDrafts>().SubmitAsync(member.Actor, new RequestDraft
        {
            Kind = RequestKind.QuotaIncrease,
            TenantId = tenantId,
            RequestedQuota = TenantQuota.Default with { VCpus = TenantQuota.Default.VCpus + 4 },
            Justification = "live hub test",
        }, TestContext.Current.CancellationToken);

    public async Task<long> VersionOfResourceAsync(Guid id)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.Resources.Where(r => r.Id == id).Select(r => r.Version).SingleAsync(TestContext.Current.CancellationToken);
    }

    public async Task<long> VersionOfRequestAsync(Guid id)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(TestContext.Current.CancellationToken);
        return await db.Requests.Where(r => r.Id == id).Select(r => r.Version).SingleAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A sample as the metrics collector publishes it.</summary>
    public static MetricsSampled Sample(Guid tenantId, Guid resourceId, double cpu = 42.5) =>
        new(tenantId, resourceId, new MetricPoint(DateTimeOffset.UtcNow, cpu, 512L << 20, 1024L << 20, 1000, 2000, 3000, 4000));

    /// <summary>Signs in through the real sign-in form; the cookies are the browser's (or a script's) session.</summary>
    public async Task<CookieContainer> SignInAsync(LiveUser user)
    {
        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var browser = new HttpClient(handler) { BaseAddress = BaseAddress };
        using var response = await browser.PostLoginAsync(user.Email, Password);
        if (response.StatusCode != HttpStatusCode.Redirect)
            throw new InvalidOperationException($"Signing in as {user.Email} answered {(int)response.StatusCode}, not a redirect.");
        return cookies;
    }

    /// <summary>A SignalR client of the hub, as a browser page (with <paramref name="origin"/>) or a script (without).</summary>
    public HubConnection Connection(CookieContainer? cookies, string? origin = null, HttpTransportType transport = HttpTransportType.WebSockets) =>
        new HubConnectionBuilder()
            .WithUrl(HubUrl, options =>
            {
                if (cookies is not null)
                    options.Cookies = cookies;
                if (origin is not null)
                    options.Headers["Origin"] = origin;
                options.Transports = transport;
            })
            .Build();

    /// <summary>A personal API token of the user, made through the token service as the tokens page makes one.</summary>
    public async Task<string> CreateTokenAsync(LiveUser user, Guid? tenantId = null, bool readOnly = false) =>
        (await Services.GetRequiredService<ApiTokenService>().CreateAsync(
            user.Actor, new ApiTokenDraft("live-test", DateTimeOffset.UtcNow.AddDays(1), tenantId, readOnly), TestContext.Current.CancellationToken)).Secret;

    /// <summary>A SignalR client of the hub as a script with an API token: no cookie, no Origin, the token in the Authorization header.</summary>
    public HubConnection TokenConnection(string token, HttpTransportType transport = HttpTransportType.WebSockets) =>
        new HubConnectionBuilder()
            .WithUrl(HubUrl, options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                options.Transports = transport;
            })
            .Build();

    /// <summary>Signs the user in and connects them over a websocket, listening to every event.</summary>
    public async Task<LiveListener> ListenAsync(LiveUser user, string? origin = null)
    {
        var connection = Connection(await SignInAsync(user), origin ?? OwnOrigin);
        return await LiveListener.StartAsync(connection);
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
    }
}
