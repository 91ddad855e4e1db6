using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Web.Api;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Resources through the API: listed, read with what the host observed, and acted on as operations to poll.</summary>
public sealed class ResourcesApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Every_lifecycle_action_has_its_endpoint()
    {
        var paths = ApiEndpoints.All(portal.Services).Select(e => e.RoutePattern.RawText).ToHashSet();

        Assert.All(ResourceLifecycle.UserActions, action => Assert.Contains($"/api/v1/resources/{{id:guid}}/{ResourcesApi.Slug(action)}", paths));
        Assert.Equal("force-off", ResourcesApi.Slug(Core.Provisioning.OperationKind.ForceOff));
    }

    [Fact]
    public async Task A_provisioned_vm_shows_the_state_its_host_observed_and_a_reboot_is_an_operation_that_succeeds()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        var vm = await ProvisionAsync(client);

        var details = await client.PollAsync($"/api/v1/resources/{vm}", r => r.GetProperty("summary").TryGetProperty("confirmedAt", out var at) && at.ValueKind != System.Text.Json.JsonValueKind.Null);
        Assert.Equal(("Running", "Running"), (details.GetProperty("summary").GetProperty("state").GetString(), details.GetProperty("summary").GetProperty("wantedState").GetString()));
        using var read = await client.GetAsync($"/api/v1/resources/{vm}", Ct);
        using var reboot = await client.PostAsync($"/api/v1/resources/{vm}/reboot", headers: new Dictionary<string, string> { ["If-Match"] = read.Headers.ETag!.Tag });

        var operation = await reboot.ExpectAsync(HttpStatusCode.Accepted);
        Assert.Equal($"/api/v1/operations/{operation.Id()}", reboot.Headers.Location?.OriginalString);
        Assert.Equal(("Reboot", vm), (operation.GetProperty("kind").GetString(), operation.GetProperty("resourceId").GetGuid()));
        var finished = await client.PollAsync(reboot.Headers.Location!.OriginalString, o => o.GetProperty("state").GetString() is "Succeeded" or "Failed");
        Assert.Equal("Succeeded", finished.GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_action_the_state_does_not_offer_and_a_delete_with_the_wrong_name_are_refused_in_the_pages_words()
    {
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var start = await client.PostAsync($"/api/v1/resources/{vm.Id}/start");
        using var password = await client.PostAsync($"/api/v1/resources/{vm.Id}/rotate-password");
        using var delete = await client.PostAsync($"/api/v1/resources/{vm.Id}/delete", new { confirmName = "something-else" });
        using var noBody = await client.PostAsync($"/api/v1/resources/{vm.Id}/delete");

        Assert.Equal([$"{vm.Name} is running: it cannot run now."], (await start.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(""));
        Assert.Equal([$"{vm.Name} is running: it cannot new password now."], (await password.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(""));
        Assert.Equal([$"Type {vm.Name} to confirm."], (await delete.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("confirmName"));
        await noBody.ExpectAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_stale_version_is_refused_and_nothing_is_queued()
    {
        var vm = await portal.VmAsync(await portal.AcmeAsync());
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.PostAsync($"/api/v1/resources/{vm.Id}/reboot", headers: new Dictionary<string, string> { ["If-Match"] = "\"0\"" });
        using var after = await client.GetAsync($"/api/v1/resources/{vm.Id}", Ct);

        Assert.StartsWith($"{vm.Name} changed since you read it (version 1, not 0)", (await response.ExpectAsync(HttpStatusCode.PreconditionFailed)).Detail(), StringComparison.Ordinal);
        Assert.Empty((await after.ExpectAsync(HttpStatusCode.OK)).GetProperty("operations").EnumerateArray());
    }

    [Fact]
    public async Task The_list_holds_the_tenants_live_resources_newest_first_and_one_tenant_by_name()
    {
        var acme = await portal.AcmeAsync();
        var older = await portal.VmAsync(acme);
        var newer = await portal.VmAsync(acme);
        var globex = await portal.VmAsync(await portal.GlobexAsync());
        using var owner = await portal.ClientAsync(ApiPortal.Owner);

        using var all = await owner.GetAsync("/api/v1/resources?limit=200", Ct);
        using var acmeOnly = await owner.GetAsync($"/api/v1/resources?tenantId={acme}&limit=200", Ct);

        var ids = (await all.ExpectAsync(HttpStatusCode.OK)).Items().Select(r => r.GetProperty("resource").Id()).ToList();
        Assert.True(ids.IndexOf(newer.Id) < ids.IndexOf(older.Id) && ids.IndexOf(newer.Id) >= 0);
        Assert.Contains(globex.Id, ids);
        Assert.DoesNotContain(globex.Id, (await acmeOnly.ExpectAsync(HttpStatusCode.OK)).Items().Select(r => r.GetProperty("resource").Id()));
    }

    [Fact]
    public async Task An_unknown_operation_looks_like_one_of_another_tenant()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync($"/api/v1/operations/{Guid.NewGuid()}", Ct);

        Assert.Equal("This operation does not exist or you may not see it.", (await response.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    /// <summary>A tiny VM through a request the demo policy approves, provisioned on the simulated host; its id.</summary>
    private async Task<Guid> ProvisionAsync(HttpClient client)
    {
        using var templates = await client.GetAsync("/api/v1/catalog/templates", Ct);
        var tiny = (await templates.ExpectAsync(HttpStatusCode.OK)).Items().Single(t => t.GetProperty("name").GetString() == "Tiny test guest");
        var small = tiny.GetProperty("allowedSizeIds").EnumerateArray().Select(s => s.GetGuid()).ToList();
        using var sizes = await client.GetAsync("/api/v1/catalog/sizes", Ct);
        var size = (await sizes.ExpectAsync(HttpStatusCode.OK)).Items().Single(s => s.GetProperty("name").GetString() == "small").Id();
        Assert.Contains(size, small);
        using var created = await client.PostAsync("/api/v1/requests", new RequestDraft
        {
            Kind = RequestKind.NewVm, TenantId = await portal.AcmeAsync(), Name = $"rs-{Guid.NewGuid():N}"[..12], TemplateId = tiny.Id(), SizeId = size, LeaseDays = 7,
        });
        var id = (await created.ExpectAsync(HttpStatusCode.Created)).GetProperty("request").Id();
        var done = await client.PollAsync($"/api/v1/requests/{id}", r => r.GetProperty("request").GetProperty("state").GetString() is "Completed" or "Failed");
        Assert.Equal("Completed", done.GetProperty("request").GetProperty("state").GetString());
        return done.GetProperty("resourceId").GetGuid();
    }
}
