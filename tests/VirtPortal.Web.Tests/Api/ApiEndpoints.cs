using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Api;

namespace VirtPortal.Web.Tests.Api;

/// <summary>The things the generated tests aim at: Acme's pending request, VM and an operation on it, and a catalog template.</summary>
public sealed record ApiWorld(Guid Acme, Guid Globex, Guid RequestId, Resource Vm, Guid OperationId, Guid TemplateId)
{
    /// <summary>Acme's webhook subscription and one of its deliveries.</summary>
    public (Guid Subscription, Guid Delivery) Webhook { get; init; }
}

/// <summary>One call of an endpoint: its method, its path with the world's ids, and a body it accepts.</summary>
public sealed record ApiCall(RouteEndpoint Endpoint, HttpMethod Method, string Path, object? Body)
{
    /// <summary>Whether it reaches one of Acme's things (a request, resource or operation, or a request made for Acme), not a list or one's own token.</summary>
    public bool TargetsAcme { get; init; }

    public bool Reads => Method == HttpMethod.Get;

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

    public static async Task<ApiWorld> ArrangeAsync(ApiPortal portal)
    {
        var ct = TestContext.Current.CancellationToken;
        var acme = await portal.AcmeAsync();
        var request = await portal.PendingRequestAsync(ApiPortal.Member, acme);
        var vm = await portal.VmAsync(acme);
        var operation = await portal.Services.GetRequiredService<ResourceActions>().RequestAsync(await portal.ActorAsync(ApiPortal.Member), vm.Id, OperationKind.Reboot, null, ct);
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        var template = await db.VmTemplates.Select(t => t.Id).FirstAsync(ct);
        return new ApiWorld(acme, await portal.GlobexAsync(), request, vm, operation, template) { Webhook = await Webhooks.WebhookWorld.ArrangeAsync(portal, acme) };
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
            var area = raw[(PortalApi.Prefix.Length + 1)..].Split('/')[0];
            Guid? id = area switch
            {
                "requests" or "approvals" => world.RequestId,
                "resources" => world.Vm.Id,
                "operations" => world.OperationId,
                "tokens" => ownTokenId,
                "catalog" => world.TemplateId,
                "webhooks" => raw.Contains("/deliveries/{id", StringComparison.Ordinal) ? world.Webhook.Delivery : world.Webhook.Subscription,
                _ => null,
            };
            if (id is null)
            {
                unknown.Add(raw);
                continue;
            }

            var path = raw.Replace("{id:guid}", id.Value.ToString(), StringComparison.Ordinal);
            var hasId = raw.Contains("{id:guid}", StringComparison.Ordinal);
            object? body = (method.Method, raw[PortalApi.Prefix.Length..].TrimEnd('/')) switch
            {
                ("POST", "/requests" or "/requests/preflight") => QuotaDraft(world.Acme),
                ("POST", "/approvals/{id:guid}/reject") => new { reason = "not this quarter" },
                ("POST", "/approvals/bulk-approve") => new { requestIds = new[] { world.RequestId } },
                ("POST", "/resources/{id:guid}/delete") => new { confirmName = world.Vm.Name },
                ("POST", "/webhooks") => new { tenantId = world.Acme, url = Webhooks.WebhookWorld.Url, events = new[] { "*" } },
                ("PUT", "/webhooks/{id:guid}") => new { url = Webhooks.WebhookWorld.Url, events = new[] { "request.*" } },
                ("POST", "/tokens") => new { name = "made-by-a-test", expiresAt = DateTimeOffset.UtcNow.AddDays(1) },
                _ => null,
            };
            var targetsAcme = area is "requests" or "approvals" or "resources" or "operations" or "webhooks" && (hasId || method != HttpMethod.Get);
            calls.Add(new ApiCall(endpoint, method, path, body) { TargetsAcme = targetsAcme });
        }

        Assert.True(unknown.Count == 0, "Say in ApiEndpoints how to call: " + string.Join(", ", unknown));
        Assert.True(calls.Count >= 25, $"only {calls.Count} endpoints found");
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
