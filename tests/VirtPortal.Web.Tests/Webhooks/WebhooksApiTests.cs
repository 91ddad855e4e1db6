using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Access;
using VirtPortal.Core.Data;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Tests.Webhooks;
using VirtPortal.Web.Tests.Api;

namespace VirtPortal.Web.Tests.Webhooks;

/// <summary>
/// Webhooks through the API of a running portal, its dispatcher included, to receivers on 127.0.0.1 that verify
/// every delivery with their own code. Each test has a tenant of its own, so no other test's events reach it.
/// </summary>
public sealed class WebhooksApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    /// <summary>Shorter than the dispatcher's poll interval (15 s): what arrives in time was sent because its commit woke the dispatcher.</summary>
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    private static readonly string[] All = ["*"];
    private static readonly string[] Hosts = ["host.*"];
    private static readonly string[] Requests = ["request.*"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(Guid Tenant, Actor Owner, HttpClient Client)> TenantAsync()
    {
        var tenant = await portal.Services.GetRequiredService<TenantService>().CreateAsync(await portal.AdminActorAsync(), $"wh-{Guid.NewGuid():N}"[..16], null, TenantQuota.Default, Ct);
        var owner = await portal.UserAsync((tenant, TenantRole.Owner));
        return (tenant, owner, portal.Client((await portal.TokenAsync(owner)).Secret));
    }

    private static async Task<(Guid Id, string ETag)> SubscribeAsync(HttpClient client, Guid tenant, WebhookReceiver receiver, params string[] events)
    {
        using var response = await client.PostAsync("/api/v1/webhooks", new { tenantId = tenant, url = receiver.Url, events });
        var body = await response.ExpectAsync(HttpStatusCode.Created);
        receiver.Secret = body.GetProperty("secret").GetString();
        var id = body.GetProperty("subscription").Id();
        Assert.Equal($"/api/v1/webhooks/{id}", response.Headers.Location?.OriginalString);
        return (id, response.Headers.ETag!.Tag);
    }

    private async Task MoveAsync(Guid vmId, ResourceState state)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var vm = await db.Resources.SingleAsync(r => r.Id == vmId, Ct);
        vm.State = state;
        vm.Version++;
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task A_subscription_made_through_the_api_gets_its_tenants_changes_at_once_in_order_and_signed()
    {
        var (tenant, _, client) = await TenantAsync();
        using var _c = client;
        await using var receiver = new WebhookReceiver();
        await SubscribeAsync(client, tenant, receiver, "resource.*");

        var vm = await portal.VmAsync(tenant);
        await MoveAsync(vm.Id, ResourceState.Shutoff);
        await MoveAsync(vm.Id, ResourceState.Running);

        var received = await receiver.WaitForAsync(3, Soon);
        Assert.All(received, r => Assert.True(r.Verified, r.Problem));
        Assert.Equal(["resource.created", "resource.shutoff", "resource.running"], received.Select(r => r.Type));
        Assert.Equal([1L, 2, 3], received.Select(r => r.EntityVersion));
        Assert.All(received, r => Assert.Equal(tenant, r.Json.GetProperty("tenantId").GetGuid()));
    }

    [Fact]
    public async Task A_test_event_is_accepted_with_the_delivery_to_follow_and_a_redelivery_sends_the_same_id_again()
    {
        var (tenant, _, client) = await TenantAsync();
        using var _c = client;
        await using var receiver = new WebhookReceiver();
        var (id, _) = await SubscribeAsync(client, tenant, receiver, "request.*");

        using var test = await client.PostAsync($"/api/v1/webhooks/{id}/test");
        var queued = await test.ExpectAsync(HttpStatusCode.Accepted);
        var location = test.Headers.Location!.OriginalString;
        var delivered = await client.PollAsync(location, d => d.GetProperty("state").GetString() == "Succeeded", Soon);
        using var again = await client.PostAsync($"/api/v1/webhooks/deliveries/{queued.Id()}/redeliver");
        await again.ExpectAsync(HttpStatusCode.Accepted);
        var received = await receiver.WaitForAsync(2, Soon);

        Assert.Equal($"/api/v1/webhooks/deliveries/{queued.Id()}", location);
        Assert.Equal(200, delivered.GetProperty("responseStatus").GetInt32());
        Assert.Equal(1, delivered.GetProperty("attempts").GetInt32());
        Assert.Equal("webhook.test", received[0].Type);
        Assert.Equal(received[0].Id, received[1].Id);
        Assert.All(received, r => Assert.True(r.Verified, r.Problem));
        using var log = await client.GetAsync($"/api/v1/webhooks/{id}/deliveries?limit=1", Ct);
        var page = await log.ExpectAsync(HttpStatusCode.OK);
        Assert.True(Assert.Single(page.Items()).GetProperty("isRedelivery").GetBoolean());
        Assert.NotNull(page.GetProperty("nextCursor").GetString());
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "url", "169.254.169.254 is a link-local or metadata address: webhooks cannot be sent there.")]
    [InlineData("ftp://example.com/", "url", "Use an http:// or https:// URL.")]
    [InlineData(null, "events", "\"host\" is not an event kind of a tenant: use request, resource, database.")]
    public async Task A_bad_subscription_is_refused_with_422_naming_the_field_and_nothing_is_made(string? url, string field, string message)
    {
        var (tenant, owner, client) = await TenantAsync();
        using var _c = client;

        using var response = await client.PostAsync("/api/v1/webhooks", new { tenantId = tenant, url = url ?? "http://127.0.0.1:9/", events = url is null ? Hosts : All });

        Assert.Equal([message], (await response.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(field));
        Assert.Empty(await portal.Services.GetRequiredService<Core.Webhooks.WebhookService>().ListAsync(owner, tenant, Ct));
    }

    [Fact]
    public async Task A_change_takes_if_match_and_another_tenants_owner_is_told_the_subscription_does_not_exist()
    {
        var (tenant, _, client) = await TenantAsync();
        using var _c = client;
        await using var receiver = new WebhookReceiver();
        var (id, etag) = await SubscribeAsync(client, tenant, receiver, "*");
        var (_, _, stranger) = await TenantAsync();
        using var _s = stranger;

        using var stale = await client.SendAsync(HttpMethod.Put, $"/api/v1/webhooks/{id}", new { url = receiver.Url, events = Requests }, new Dictionary<string, string> { ["If-Match"] = "\"99\"" });
        using var fresh = await client.SendAsync(HttpMethod.Put, $"/api/v1/webhooks/{id}", new { url = receiver.Url, events = Requests, enabled = false }, new Dictionary<string, string> { ["If-Match"] = etag });
        using var seen = await stranger.GetAsync($"/api/v1/webhooks/{id}", Ct);
        using var changed = await stranger.SendAsync(HttpMethod.Delete, $"/api/v1/webhooks/{id}");
        using var listed = await stranger.GetAsync("/api/v1/webhooks", Ct);

        await stale.ExpectAsync(HttpStatusCode.PreconditionFailed);
        var body = await fresh.ExpectAsync(HttpStatusCode.OK);
        Assert.False(body.GetProperty("enabled").GetBoolean());
        Assert.NotEqual(etag, fresh.Headers.ETag!.Tag);
        Assert.Equal("This webhook does not exist or you may not see it.", (await seen.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await changed.ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty((await listed.ExpectAsync(HttpStatusCode.OK)).Items());
        Assert.DoesNotContain(receiver.Secret!, body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_only_token_lists_subscriptions_but_makes_none()
    {
        var (tenant, owner, client) = await TenantAsync();
        using var _c = client;
        using var readOnly = portal.Client((await portal.TokenAsync(owner, readOnly: true)).Secret);

        using var listed = await readOnly.GetAsync($"/api/v1/webhooks?tenantId={tenant}", Ct);
        using var made = await readOnly.PostAsync("/api/v1/webhooks", new { tenantId = tenant, url = "http://127.0.0.1:9/", events = All });

        await listed.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(AccessRules.ReadOnlyTokenReason, (await made.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
    }
}
