using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Tests.Api;

/// <summary>
/// The whole portal for API tests, with the demo tenants and accounts, the simulated host without its
/// realistic delays (and, as every test portal, rate limits far above what a test sends).
/// Tests make their own tokens and their own requests and resources, so they share nothing by accident.
/// </summary>
public class ApiPortal : PortalAppFactory
{
    public const string Member = "member@demo.virtportal.local"; // Acme member
    public const string Owner = "owner@demo.virtportal.local"; // Acme owner, Globex member
    public const string Approver = "approver@demo.virtportal.local";
    public const string Helpdesk = "helpdesk@demo.virtportal.local";
    public const string Admin = "admin@demo.virtportal.local";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public ApiPortal()
        : this(new Dictionary<string, string?>())
    {
    }

    protected ApiPortal(IReadOnlyDictionary<string, string?> overrides)
        : base(null, Settings(overrides))
    {
    }

    private static Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Hosts:SimulatedDelays"] = "false",
        };
        foreach (var (key, value) in overrides)
            settings[key] = value;
        return settings;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async Task<Actor> ActorAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user {email}.");
        return new Actor(user.Id, user.Label, (await users.GetRolesAsync(user)).ToHashSet());
    }

    /// <summary>A new personal API token of the user, as the tokens page makes one.</summary>
    public async Task<CreatedApiToken> TokenAsync(string email, Guid? tenantId = null, bool readOnly = false, TimeSpan? lifetime = null) =>
        await Services.GetRequiredService<ApiTokenService>().CreateAsync(
            await ActorAsync(email), new ApiTokenDraft($"test-{Guid.NewGuid():N}"[..20], DateTimeOffset.UtcNow + (lifetime ?? TimeSpan.FromDays(1)), tenantId, readOnly), Ct);

    /// <summary>A script's client: the token in the Authorization header, nothing else.</summary>
    public HttpClient Client(string token)
    {
        var client = CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task<HttpClient> ClientAsync(string email, Guid? tenantId = null, bool readOnly = false) =>
        Client((await TokenAsync(email, tenantId, readOnly)).Secret);

    public Task<Guid> AcmeAsync() => TenantIdAsync(DemoAccounts.AcmeTenant);

    public Task<Guid> GlobexAsync() => TenantIdAsync(DemoAccounts.GlobexTenant);

    /// <summary>A quota increase (one vCPU more than the tenant has now) asked for by the user: it waits for an approver under the demo policy.</summary>
    public async Task<Guid> PendingRequestAsync(string email = Member, Guid? tenantId = null)
    {
        var tenant = tenantId ?? await AcmeAsync();
        var quota = (await Services.GetRequiredService<TenantService>().GetAsync(await AdminActorAsync(), tenant, Ct)).Tenant.Quota;
        return await Services.GetRequiredService<RequestDrafts>().SubmitAsync(await ActorAsync(email), new RequestDraft
        {
            Kind = RequestKind.QuotaIncrease,
            TenantId = tenant,
            RequestedQuota = quota with { VCpus = quota.VCpus + 1 },
            Justification = "API test",
        }, Ct);
    }

    /// <summary>A running VM of the tenant, stored as provisioning leaves one on the simulated host.</summary>
    public async Task<Resource> VmAsync(Guid tenantId, ResourceState state = ResourceState.Running)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var vm = new Resource
        {
            Id = Guid.CreateVersion7(now), TenantId = tenantId, Kind = ResourceKind.Vm, Name = $"vm-{Guid.NewGuid():N}"[..12], VCpus = 1, RamMiB = 512, DiskGiB = 1,
            State = state, CreatedAt = now, LeaseEndsAt = now.AddDays(7), Version = 1,
        };
        db.Resources.Add(vm);
        await db.SaveChangesAsync(Ct);
        return vm;
    }

    /// <summary>A running database of the tenant on the embedded server, stored as provisioning leaves one.</summary>
    public async Task<Resource> DatabaseAsync(Guid tenantId)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var database = new Resource
        {
            Id = Guid.CreateVersion7(now), TenantId = tenantId, Kind = ResourceKind.Database, Name = $"db-{Guid.NewGuid():N}"[..12], DiskGiB = 1,
            State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(7), Version = 1,
            OfferingId = await db.DatabaseOfferings.Select(o => (Guid?)o.Id).FirstOrDefaultAsync(Ct),
        };
        db.Resources.Add(database);
        await db.SaveChangesAsync(Ct);
        return database;
    }

    /// <summary>A tenant of the calling test's own, so that what other tests leave in the demo tenants never counts against its quota.</summary>
    public async Task<Guid> TenantAsync() =>
        await Services.GetRequiredService<TenantService>().CreateAsync(await AdminActorAsync(), $"t-{Guid.NewGuid():N}"[..14], "", TenantQuota.Default, Ct);

    /// <summary>A user of the portal's own, member of the given tenants, made as an admin makes one (no password: tokens need none).</summary>
    public async Task<Actor> UserAsync(params (Guid Tenant, TenantRole Role)[] memberships)
    {
        var email = $"{Guid.NewGuid():N}@api.test";
        var admin = await AdminActorAsync();
        var created = await Services.GetRequiredService<UserAdministration>().CreateAsync(admin, new NewUser(email, "", []), Ct);
        foreach (var (tenant, role) in memberships)
            await Services.GetRequiredService<TenantService>().AddMemberAsync(admin, tenant, email, role, Ct);
        return new Actor(created.UserId, email, new HashSet<string>());
    }

    /// <summary>A token of a user made by <see cref="UserAsync"/>.</summary>
    public async Task<CreatedApiToken> TokenAsync(Actor user, Guid? tenantId = null, bool readOnly = false) =>
        await Services.GetRequiredService<ApiTokenService>().CreateAsync(user, new ApiTokenDraft("test", DateTimeOffset.UtcNow.AddDays(1), tenantId, readOnly), Ct);

    /// <summary>Moves a token's expiry into the past, as time would.</summary>
    public async Task ExpireAsync(Guid tokenId)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        await db.ApiTokens.Where(t => t.Id == tokenId).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)), Ct);
    }

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return await response.Content.ReadFromJsonAsync<T>(Json, Ct) ?? throw new InvalidOperationException("An empty answer.");
    }
}
