using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Access;
using VirtPortal.Core.Data;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Web.Api;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Tests.Api;

/// <summary>
/// Tests generated from the routing table: every /api/v1 endpoint is described, asks for a token, and answers
/// each kind of caller as the access table says, called with ids and bodies that aim at one tenant's things.
/// </summary>
public sealed class ApiEndpointsTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public enum Refusal
    {
        NoToken,
        UnknownToken,
        ExpiredToken,
        RevokedToken,
        LockedUser,
    }

    [Fact]
    public void Every_endpoint_asks_for_a_token_and_has_a_name_a_summary_and_an_example_and_every_post_takes_an_idempotency_key()
    {
        var endpoints = ApiEndpoints.All(portal.Services);
        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var name = $"{ApiEndpoints.MethodOf(endpoint)} {endpoint.RoutePattern.RawText}";
            if (!endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == PortalApi.Policy))
                failures.Add(name + ": no token policy");
            if (endpoint.Metadata.OfType<IAllowAnonymous>().Any())
                failures.Add(name + ": anonymous");
            if (endpoint.Metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary is not { Length: > 0 })
                failures.Add(name + ": no summary");
            if (endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName is not { Length: > 0 })
                failures.Add(name + ": no name");
            var download = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Any(p => p.ContentTypes.Contains("application/octet-stream"));
            if (ApiEndpoints.MethodOf(endpoint) != "DELETE" && !download && endpoint.Metadata.GetMetadata<ApiExample>()?.Response is null)
                failures.Add(name + ": no example answer");
            if (ApiEndpoints.MethodOf(endpoint) == "POST" && endpoint.Metadata.GetMetadata<IdempotentEndpoint>() is null)
                failures.Add(name + ": no Idempotency-Key");
        }

        Assert.True(endpoints.Count >= 70, $"only {endpoints.Count} endpoints found");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_with_its_summary_its_typed_answer_and_an_example()
    {
        using var anonymous = portal.CreateClient();
        using var response = await anonymous.GetAsync(PortalRoutes.OpenApiDocument, Ct);
        var document = await response.ExpectAsync(HttpStatusCode.OK);
        var failures = new List<string>();
        foreach (var endpoint in ApiEndpoints.All(portal.Services))
        {
            var method = ApiEndpoints.MethodOf(endpoint).ToLowerInvariant();
            var path = System.Text.RegularExpressions.Regex.Replace(endpoint.RoutePattern.RawText!, @"\{(\w+):\w+\}", "{$1}").TrimEnd('/');
            if (!document.GetProperty("paths").TryGetProperty(path, out var item) || !item.TryGetProperty(method, out var operation))
            {
                failures.Add($"{method} {path}: not in the document");
                continue;
            }

            if (operation.GetProperty("summary").GetString() is not { Length: > 0 })
                failures.Add($"{method} {path}: no summary");
            var success = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
            if (success.Count != 1)
                failures.Add($"{method} {path}: {success.Count} success answers");
            else if (success[0].Name != "204" && !(success[0].Value.TryGetProperty("content", out var content)
                         && ((content.TryGetProperty("application/json", out var json) && json.TryGetProperty("schema", out _) && json.TryGetProperty("example", out _))
                             // A file download: its bytes, described as binary.
                             || (content.TryGetProperty("application/octet-stream", out var file) && file.TryGetProperty("schema", out var binary)
                                 && Resolve(document, binary).TryGetProperty("format", out var format) && format.GetString() == "binary"))))
                failures.Add($"{method} {path}: its answer has no schema or no example");
            if (!operation.GetProperty("responses").TryGetProperty("401", out _))
                failures.Add($"{method} {path}: no 401");
            if (method == "post" && !operation.GetProperty("parameters").EnumerateArray().Any(p => p.GetProperty("name").GetString() == "Idempotency-Key"))
                failures.Add($"{method} {path}: no Idempotency-Key");
        }

        Assert.Empty(failures);
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("token").GetProperty("scheme").GetString());
    }

    /// <summary>A schema, or the one its <c>$ref</c> names under components/schemas.</summary>
    private static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference) && reference.GetString() is { } name && name.StartsWith("#/components/schemas/", StringComparison.Ordinal)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(name["#/components/schemas/".Length..])
            : schema;

    [Theory]
    [InlineData(Refusal.NoToken, "Send a personal API token")]
    [InlineData(Refusal.UnknownToken, "This API token is not known.")]
    [InlineData(Refusal.ExpiredToken, "This API token has expired.")]
    [InlineData(Refusal.RevokedToken, "This API token was revoked.")]
    [InlineData(Refusal.LockedUser, "This API token's user is locked out.")]
    public async Task Every_endpoint_refuses_a_script_without_a_valid_token_with_401_and_says_why(Refusal refusal, string why)
    {
        var world = await ApiEndpoints.ArrangeAsync(portal);
        var user = await portal.UserAsync((world.Acme, TenantRole.Owner));
        var token = await portal.TokenAsync(user);
        switch (refusal)
        {
            case Refusal.ExpiredToken:
                await portal.ExpireAsync(token.Token.Id);
                break;
            case Refusal.RevokedToken:
                await portal.Services.GetRequiredService<Core.Tokens.ApiTokenService>().RevokeAsync(user, token.Token.Id, Ct);
                break;
            case Refusal.LockedUser:
                await portal.Services.GetRequiredService<UserAdministration>().SetLockedAsync(await portal.AdminActorAsync(), user.UserId, locked: true, Ct);
                break;
        }

        using var client = refusal switch
        {
            Refusal.NoToken => portal.CreateClient(),
            Refusal.UnknownToken => portal.Client(Core.Tokens.ApiTokenService.Prefix + new string('Z', 43)),
            _ => portal.Client(token.Secret),
        };
        foreach (var call in ApiEndpoints.Calls(portal.Services, world, token.Token.Id))
        {
            using var response = await client.SendAsync(call.Method, call.Path, call.Body);
            var problem = await response.ExpectAsync(HttpStatusCode.Unauthorized);
            Assert.StartsWith(why, problem.Detail(), StringComparison.Ordinal);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }

        await AssertUnchangedAsync(world);
    }

    [Fact]
    public async Task A_read_only_token_reads_through_every_reading_endpoint_and_is_refused_every_change()
    {
        var world = await ApiEndpoints.ArrangeAsync(portal);
        // Each call with a read-only token of someone who may make it with a read-write one (the owner, an approver, the admin).
        foreach (var email in new[] { ApiPortal.Owner, ApiPortal.Approver, ApiPortal.Admin })
        {
            var token = await portal.TokenAsync(email, readOnly: true);
            using var client = portal.Client(token.Secret);
            foreach (var call in ApiEndpoints.Calls(portal.Services, world, token.Token.Id).Where(c => c.Caller == email))
            {
                using var response = await client.SendAsync(call.Method, call.Path, call.Body);
                if (call.Reads)
                    await response.ExpectAsync(call.ReadStatus);
                else
                    Assert.Equal(AccessRules.ReadOnlyTokenReason, (await response.ExpectAsync(HttpStatusCode.Forbidden)).Detail());
            }
        }

        await AssertUnchangedAsync(world);
    }

    [Fact]
    public async Task A_member_of_another_tenant_is_told_every_one_of_this_tenants_things_does_not_exist()
    {
        var world = await ApiEndpoints.ArrangeAsync(portal);
        var stranger = await portal.UserAsync((world.Globex, TenantRole.Owner));
        var token = await portal.TokenAsync(stranger);

        await AssertAcmeIsUnknownAsync(world, token, world.Globex);
    }

    [Fact]
    public async Task A_token_limited_to_another_tenant_is_told_every_one_of_this_tenants_things_does_not_exist_though_its_user_owns_it()
    {
        var world = await ApiEndpoints.ArrangeAsync(portal);
        var token = await portal.TokenAsync(ApiPortal.Owner, tenantId: world.Globex);

        await AssertAcmeIsUnknownAsync(world, token, world.Globex);
    }

    [Fact]
    public async Task An_admins_token_limited_to_one_tenant_is_told_the_portals_own_things_do_not_exist()
    {
        var world = await ApiEndpoints.ArrangeAsync(portal);
        var token = await portal.TokenAsync(ApiPortal.Admin, tenantId: world.Globex);
        using var client = portal.Client(token.Secret);

        foreach (var call in ApiEndpoints.Calls(portal.Services, world, token.Token.Id).Where(c => c.AdminOnly))
        {
            using var response = await client.SendAsync(call.Method, call.Path, call.Body);
            var problem = await response.ExpectAsync(HttpStatusCode.NotFound);
            Assert.EndsWith("does not exist or you may not see it.", problem.Detail(), StringComparison.Ordinal);
        }

        await AssertUnchangedAsync(world);
    }

    [Fact]
    public async Task Helpdesk_reads_every_one_of_a_tenants_things_and_changes_none()
    {
        var world = await ApiEndpoints.ArrangeAsync(portal);
        var token = await portal.TokenAsync(ApiPortal.Helpdesk);
        using var client = portal.Client(token.Secret);

        foreach (var call in ApiEndpoints.Calls(portal.Services, world, token.Token.Id).Where(c => c.TargetsAcme || c.AdminOnly))
        {
            using var response = await client.SendAsync(call.Method, call.Path, call.Body);
            if (call.Reads)
                await response.ExpectAsync(call.ReadStatus);
            else
                Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"{call}: {(int)response.StatusCode}");
        }

        await AssertUnchangedAsync(world);
    }

    private async Task AssertAcmeIsUnknownAsync(ApiWorld world, Core.Tokens.CreatedApiToken token, Guid ownTenant)
    {
        using var client = portal.Client(token.Secret);
        var calls = ApiEndpoints.Calls(portal.Services, world, token.Token.Id);
        foreach (var call in calls.Where(c => c.TargetsAcme || c.AdminOnly))
        {
            using var response = await client.SendAsync(call.Method, call.Path, call.Body);
            var problem = await response.ExpectAsync(HttpStatusCode.NotFound);
            Assert.EndsWith("does not exist or you may not see it.", problem.Detail(), StringComparison.Ordinal);
        }

        foreach (var list in new[] { "/api/v1/requests", "/api/v1/resources" })
        {
            using var response = await client.GetAsync(list, Ct);
            var page = await response.ExpectAsync(HttpStatusCode.OK);
            Assert.All(page.Items(), item => Assert.Equal(ownTenant, (item.TryGetProperty("resource", out var resource) ? resource : item).GetProperty("tenantId").GetGuid()));
        }

        using var named = await client.GetAsync($"/api/v1/requests?tenantId={world.Acme}", Ct);
        Assert.Equal("This tenant does not exist or you may not see it.", (await named.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        await AssertUnchangedAsync(world);
    }

    /// <summary>
    /// The world's request still waits at its version, its VM has only the one operation and its database none, Acme
    /// keeps its name, quota, policy and member, the member is not locked and has no portal role, the host and the
    /// database server are in service, the drift is open, and no tenant, host or server was added.
    /// </summary>
    private async Task AssertUnchangedAsync(ApiWorld world)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var request = await db.Requests.AsNoTracking().SingleAsync(r => r.Id == world.RequestId, Ct);
        Assert.Equal(RequestState.PendingApproval, request.State);
        Assert.Equal(1, await db.Operations.CountAsync(o => o.ResourceId == world.Vm.Id, Ct));
        Assert.Equal(0, await db.Operations.CountAsync(o => o.ResourceId == world.Database.Id, Ct));
        Assert.NotEqual(Core.Resources.ResourceState.Deleting, (await db.Resources.AsNoTracking().SingleAsync(r => r.Id == world.Vm.Id, Ct)).State);
        var acme = await db.Tenants.AsNoTracking().SingleAsync(t => t.Id == world.Acme, Ct);
        Assert.Equal((Core.Demo.DemoAccounts.AcmeTenant, false), (acme.Name, acme.IsArchived));
        Assert.Equal(TenantRole.Member, (await db.TenantMemberships.AsNoTracking().SingleAsync(m => m.TenantId == world.Acme && m.UserId == world.MemberId, Ct)).Role);
        Assert.False(await db.TenantMemberships.AnyAsync(m => m.TenantId == world.Acme && m.UserId == db.Users.Single(u => u.Email == ApiPortal.Helpdesk).Id, Ct));
        Assert.False(await db.Tenants.AnyAsync(t => t.Description == "made by a test", Ct));
        Assert.Null((await db.TenantPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.TenantId == world.Acme, Ct)) is { AutoApprove: false, MaxLeaseDays: 30 } ? "changed" : null);
        var member = await db.Users.AsNoTracking().SingleAsync(u => u.Id == world.MemberId, Ct);
        Assert.True(member.LockoutEnd is null || member.LockoutEnd < DateTimeOffset.UtcNow);
        Assert.False(await db.UserRoles.AnyAsync(r => r.UserId == world.MemberId, Ct));
        Assert.False(await db.Users.AnyAsync(u => u.DisplayName == "Made By A Test", Ct));
        Assert.NotEqual(Core.Hosts.HostState.Maintenance, (await db.Hosts.AsNoTracking().SingleAsync(h => h.Id == world.HostId, Ct)).State);
        Assert.NotEqual(Core.Databases.DatabaseServerState.Maintenance, (await db.DatabaseServers.AsNoTracking().SingleAsync(s => s.Id == world.ServerId, Ct)).State);
        Assert.False(await db.Hosts.AnyAsync(h => h.Uri == "simulated://test", Ct));
        Assert.Null((await db.Drifts.AsNoTracking().SingleAsync(d => d.Id == world.DriftId, Ct)).ResolvedAt);
    }
}
