using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Reconciliation;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Api;

namespace VirtPortal.Web.Tests.Api;

/// <summary>
/// The things the generated tests aim at: Acme's pending request, VM and an operation on it, a database, its member
/// (the demo member), a catalog template; and the portal's own: a host, a database server, an open drift.
/// </summary>
public sealed record ApiWorld(
    Guid Acme, Guid Globex, Guid RequestId, Resource Vm, Guid OperationId, Guid TemplateId, Resource Database, string MemberId, Guid HostId, Guid ServerId, long DriftId)
{
    /// <summary>The world's own catalog size and database offering (its template is <see cref="TemplateId"/>).</summary>
    public (Guid Size, Guid Offering) Catalog { get; init; }

    /// <summary>Acme's webhook subscription and one of its deliveries.</summary>
    public (Guid Subscription, Guid Delivery) Webhook { get; init; }
}

/// <summary>One call of an endpoint: its method, its path with the world's ids, and a body it accepts.</summary>
public sealed record ApiCall(RouteEndpoint Endpoint, HttpMethod Method, string Path, object? Body)
{
    /// <summary>Whether it reaches one of Acme's things (a request, resource, operation, database or the tenant itself, or a request made for Acme), not a list or one's own token.</summary>
    public bool TargetsAcme { get; init; }

    /// <summary>Whether it manages the portal itself (hosts, database servers, users, drift, tenants' existence and policies): admins only.</summary>
    public bool AdminOnly { get; init; }

    /// <summary>Who may make it with a read-write token: the Acme owner, an approver for approvals, the admin for the portal's own things.</summary>
    public string Caller { get; init; } = ApiPortal.Owner;

    /// <summary>Whether a read-only token is refused it: every change, and reading what only a "manage" permission shows.</summary>
    public bool Changes { get; init; }

    public bool Reads => !Changes;

    /// <summary>What a reading call answers those who may read: 200, or 409 for a console the world's VM (on no host) does not have.</summary>
    public HttpStatusCode ReadStatus { get; init; } = HttpStatusCode.OK;

    public override string ToString() => $"{Method} {Path}";
}

/// <summary>
/// Every /api/v1 endpoint as the routing table has it (so a new endpoint is tested without editing the tests),
/// and a call of each with ids and bodies that aim at one world. An endpoint this does not know how to call
/// fails <see cref="Calls"/>: say here how it is called.
/// </summary>
public static class ApiEndpoints
{
    public static IReadOnlyList<RouteEndpoint> All(IServiceProvider services) =>
        [.. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(PortalApi.Prefix + "/", StringComparison.Ordinal) == true)
            .OrderBy(e => e.RoutePattern.RawText, StringComparer.Ordinal)];

    public static string MethodOf(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()!.HttpMethods.Single();

    /// <summary>The areas only admins manage, so a read-only token is refused even their lists.</summary>
    private static readonly HashSet<string> AdminAreas = ["hosts", "database-servers", "users", "drift"];

    public static async Task<ApiWorld> ArrangeAsync(ApiPortal portal)
    {
        var ct = TestContext.Current.CancellationToken;
        var acme = await portal.AcmeAsync();
        var request = await portal.PendingRequestAsync(ApiPortal.Member, acme);
        var vm = await portal.VmAsync(acme);
        var operation = await portal.Services.GetRequiredService<ResourceActions>().RequestAsync(await portal.ActorAsync(ApiPortal.Member), vm.Id, OperationKind.Reboot, null, ct);
        var database = await portal.DatabaseAsync(acme);
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        // Catalog items of the world's own, since the generated calls rename them: other tests find the seeded ones by name.
        var catalog = portal.Services.GetRequiredService<Core.Catalog.CatalogService>();
        var admin = await portal.AdminActorAsync();
        var size = await catalog.CreateSizeAsync(admin, new Core.Catalog.SizeInput($"s-{Guid.NewGuid():N}"[..12], 1, 512, 1, 0.01m), ct);
        var template = await catalog.CreateTemplateAsync(admin, new Core.Catalog.TemplateInput($"t-{Guid.NewGuid():N}"[..12], null, null, "tiny-test-guest", 30, 0.01m, [size]), ct);
        var offering = await catalog.CreateOfferingAsync(
            admin, new Core.Catalog.OfferingInput($"o-{Guid.NewGuid():N}"[..12], null, Core.Catalog.DatabaseEngineKind.Sqlite, 1, 5, 30, 0.01m), ct);
        var host = await db.Hosts.Where(h => h.State != Core.Hosts.HostState.Maintenance).Select(h => h.Id).FirstAsync(ct);
        var server = await db.DatabaseServers.Select(s => s.Id).FirstAsync(ct);
        // The drift is on a host in maintenance, which the reconciler leaves alone: it would clear drift its host does not show.
        var now = DateTimeOffset.UtcNow;
        var quiet = new Core.Hosts.Host
        {
            Id = Guid.CreateVersion7(now), Name = $"quiet-{Guid.NewGuid():N}"[..12], Driver = Core.Hosts.HostDriver.Simulated, Uri = "simulated://quiet",
            DomainType = "simulated", State = Core.Hosts.HostState.Maintenance, Cpus = 4, MemoryMiB = 4096, StorageGiB = 10, CreatedAt = now,
        };
        db.Hosts.Add(quiet);
        var drift = new Drift
        {
            HostId = quiet.Id, ResourceId = vm.Id, DomainId = vm.Id, DomainName = vm.Name, Kind = DriftKind.StateChanged,
            PortalView = "Running", HypervisorView = "Shutoff", DetectedAt = DateTimeOffset.UtcNow,
        };
        db.Drifts.Add(drift);
        await db.SaveChangesAsync(ct);
        return new ApiWorld(acme, await portal.GlobexAsync(), request, vm, operation, template, database, await portal.UserIdAsync(ApiPortal.Member), host, server, drift.Id)
        {
            Webhook = await Webhooks.WebhookWorld.ArrangeAsync(portal, acme),
            Catalog = (size, offering),
        };
    }

    /// <summary>A call of every endpoint; <paramref name="ownTokenId"/> is the caller's own token, for the token endpoints.</summary>
    public static IReadOnlyList<ApiCall> Calls(IServiceProvider services, ApiWorld world, Guid ownTokenId)
    {
        var calls = new List<ApiCall>();
        var unknown = new List<string>();
        foreach (var endpoint in All(services))
        {
            var raw = endpoint.RoutePattern.RawText!;
            var method = new HttpMethod(MethodOf(endpoint));
            var route = raw[PortalApi.Prefix.Length..].TrimEnd('/');
            var area = raw[(PortalApi.Prefix.Length + 1)..].Split('/')[0];
            string? id = area switch
            {
                "requests" or "approvals" => world.RequestId.ToString(),
                "resources" => world.Vm.Id.ToString(),
                "operations" => world.OperationId.ToString(),
                "tokens" => ownTokenId.ToString(),
                "catalog" => (raw.Contains("/sizes/{id", StringComparison.Ordinal) ? world.Catalog.Size
                    : raw.Contains("/offerings/{id", StringComparison.Ordinal) ? world.Catalog.Offering : world.TemplateId).ToString(),
                "databases" => world.Database.Id.ToString(),
                "tenants" => world.Acme.ToString(),
                "users" => world.MemberId,
                "hosts" => world.HostId.ToString(),
                "database-servers" => world.ServerId.ToString(),
                "drift" => world.DriftId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "audit" => "",
                "webhooks" => (raw.Contains("/deliveries/{id", StringComparison.Ordinal) ? world.Webhook.Delivery : world.Webhook.Subscription).ToString(),
                _ => null,
            };
            if (id is null)
            {
                unknown.Add(raw);
                continue;
            }

            var path = raw.Replace("{id:guid}", id, StringComparison.Ordinal).Replace("{id:long}", id, StringComparison.Ordinal)
                .Replace("{id}", id, StringComparison.Ordinal).Replace("{userId}", world.MemberId, StringComparison.Ordinal)
                // Every refusal the generated tests expect comes before the backup is looked up.
                .Replace("{backupId:guid}", Guid.Empty.ToString(), StringComparison.Ordinal);
            var hasId = raw.Contains("{id", StringComparison.Ordinal);
            object? body = (method.Method, route) switch
            {
                ("POST", "/requests" or "/requests/preflight") => QuotaDraft(world.Acme),
                ("POST", "/approvals/{id:guid}/reject") => new { reason = "not this quarter" },
                ("POST", "/approvals/bulk-approve") => new { requestIds = new[] { world.RequestId } },
                ("POST", "/resources/{id:guid}/delete") => new { confirmName = world.Vm.Name },
                ("POST", "/webhooks") => new { tenantId = world.Acme, url = Webhooks.WebhookWorld.Url, events = new[] { "*" } },
                ("PUT", "/webhooks/{id:guid}") => new { url = Webhooks.WebhookWorld.Url, events = new[] { "request.*" } },
                ("POST", "/tokens") => new { name = "made-by-a-test", expiresAt = DateTimeOffset.UtcNow.AddDays(1) },
                ("POST", "/tenants") or ("PUT", "/tenants/{id:guid}") => new TenantBody($"t-{Guid.NewGuid():N}"[..12], "made by a test", TenantQuota.Default),
                ("PUT", "/tenants/{id:guid}/policy") => new { autoApprove = false, maxLeaseDays = 30, autoMaxVCpus = 1, autoMaxRamMiB = 512, autoMaxDiskGiB = 1, autoMaxLeaseDays = 1, stages = new[] { new { mode = "AnyOf" } } },
                ("POST", "/tenants/{id:guid}/members") => new { email = ApiPortal.Helpdesk, role = "Member" },
                ("PUT", "/tenants/{id:guid}/members/{userId}") => new { role = "Owner" },
                ("POST", "/users") => new { email = $"{Guid.NewGuid():N}@api.test", displayName = "Made By A Test", roles = Array.Empty<string>() },
                ("PUT", "/users/{id}/roles") => new { roles = new[] { "Helpdesk" } },
                ("POST", "/hosts" or "/hosts/test") or ("PUT", "/hosts/{id:guid}") => new { name = $"h-{Guid.NewGuid():N}"[..12], driver = "Simulated", uri = "simulated://test", domainType = "auto", cpuOvercommit = 4, ramOvercommit = 1 },
                ("PUT", "/hosts/{id:guid}/maintenance" or "/database-servers/{id:guid}/maintenance") => new { maintenance = true },
                ("POST", "/database-servers" or "/database-servers/test") or ("PUT", "/database-servers/{id:guid}") =>
                    new { name = $"s-{Guid.NewGuid():N}"[..12], adminConnection = "Host=127.0.0.1;Port=1;Username=nobody;Password=nothing", maxDatabases = 5, storageGiB = 5 },
                ("POST", "/drift/{id:long}/adopt") => new { tenantId = world.Acme },
                // Changes keep what the items offer (a new name only), so that the world's requests still resolve.
                ("POST", "/catalog/templates") or ("PUT", "/catalog/templates/{id:guid}") =>
                    new { name = $"t-{Guid.NewGuid():N}"[..12], imageRef = "tiny-test-guest", defaultLeaseDays = 30, hourlyPrice = 0.01m, allowedSizeIds = Array.Empty<Guid>() },
                ("POST", "/catalog/sizes") or ("PUT", "/catalog/sizes/{id:guid}") =>
                    new { name = $"s-{Guid.NewGuid():N}"[..12], vCpus = 1, ramMiB = 512, diskGiB = 1, hourlyPrice = 0.01m },
                ("POST", "/catalog/offerings") or ("PUT", "/catalog/offerings/{id:guid}") =>
                    new { name = $"o-{Guid.NewGuid():N}"[..12], engine = "Sqlite", storageGiB = 1, connectionLimit = 5, defaultLeaseDays = 30, hourlyPrice = 0.01m },
                ("PUT", _) when route.StartsWith("/catalog/", StringComparison.Ordinal) && route.EndsWith("/enabled", StringComparison.Ordinal) => new { enabled = true },
                _ => null,
            };
            var adminOnly = AdminAreas.Contains(area) || (area == "catalog" && method != HttpMethod.Get)
                || (area == "tenants" && (method == HttpMethod.Post && route is "/tenants" or "/tenants/{id:guid}/archive" or "/tenants/{id:guid}/restore" || method == HttpMethod.Put && route is "/tenants/{id:guid}" or "/tenants/{id:guid}/policy"));
            var targetsAcme = (area is "requests" or "approvals" or "resources" or "operations" or "webhooks" && (hasId || method != HttpMethod.Get))
                || (area is "databases" or "tenants" && hasId);
            calls.Add(new ApiCall(endpoint, method, path, body)
            {
                TargetsAcme = targetsAcme,
                AdminOnly = adminOnly,
                Caller = adminOnly ? ApiPortal.Admin : area == "approvals" ? ApiPortal.Approver : ApiPortal.Owner,
                // Taking a console ticket changes nothing: a read-only token gets a view-only console. A database's files
                // are its data: downloading them takes operating it, as on its page.
                Changes = AdminAreas.Contains(area) || (method != HttpMethod.Get && route != "/resources/{id:guid}/console-ticket")
                    || (method == HttpMethod.Get && route.EndsWith("/file", StringComparison.Ordinal)),
                ReadStatus = route == "/resources/{id:guid}/console-ticket" ? HttpStatusCode.Conflict : HttpStatusCode.OK,
            });
        }

        Assert.True(unknown.Count == 0, "Say in ApiEndpoints how to call: " + string.Join(", ", unknown));
        Assert.True(calls.Count >= 70, $"only {calls.Count} endpoints found");
        return calls;
    }

    public static RequestDraft QuotaDraft(Guid tenantId) => new()
    {
        Kind = RequestKind.QuotaIncrease,
        TenantId = tenantId,
        RequestedQuota = TenantQuota.Default with { VCpus = TenantQuota.Default.VCpus + 2 },
        Justification = "API contract test",
    };
}
