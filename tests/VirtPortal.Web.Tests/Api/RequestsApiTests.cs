using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Requests;

namespace VirtPortal.Web.Tests.Api;

/// <summary>Requests through the API: submitted, checked, listed, read with their timeline, cancelled; refused as the request form refuses.</summary>
public sealed class RequestsApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_small_vm_is_submitted_approved_by_the_policy_and_provisioned_and_its_timeline_says_so()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        var draft = await SmallVmAsync(client, $"api-{Guid.NewGuid():N}"[..12]);

        using var created = await client.PostAsync("/api/v1/requests", draft);

        var body = await created.ExpectAsync(HttpStatusCode.Created);
        var id = body.GetProperty("request").Id();
        Assert.Equal($"/api/v1/requests/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal($"\"{body.GetProperty("request").GetProperty("version").GetInt64()}\"", created.Headers.ETag?.Tag);
        var done = await client.PollAsync($"/api/v1/requests/{id}", r => r.GetProperty("request").GetProperty("state").GetString() == "Completed");
        var timeline = done.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("to").GetString()).ToList();
        Assert.Equal(["Submitted", "Approved", "Provisioning", "Completed"], timeline.Distinct());
        Assert.NotEqual(Guid.Empty, done.GetProperty("resourceId").GetGuid());
    }

    [Theory]
    [InlineData("Web", "name", "Use lower-case letters only.")]
    [InlineData("", "name", "Enter a name.")]
    [InlineData("9lives", "name", "A name starts with a letter.")]
    public async Task A_bad_name_is_refused_with_the_forms_words_on_its_field(string name, string field, string message)
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.PostAsync("/api/v1/requests", await SmallVmAsync(client, name));

        var problem = await response.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal([message], problem.FieldErrors(field));
        Assert.Equal("The request is not valid.", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_request_missing_its_template_size_and_lease_names_each_field()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.PostAsync("/api/v1/requests", new { kind = "NewVm", tenantId = await portal.AcmeAsync(), name = "lonely" });

        var problem = await response.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["Choose a template."], problem.FieldErrors("templateId"));
        Assert.Equal(["Choose a size."], problem.FieldErrors("sizeId"));
        Assert.Equal(["A lease is at least 1 day."], problem.FieldErrors("leaseDays"));
    }

    [Fact]
    public async Task A_quota_increase_that_asks_for_nothing_more_is_refused_on_the_requested_quota()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        var draft = ApiEndpoints.QuotaDraft(await portal.AcmeAsync()) with { RequestedQuota = Core.Tenancy.TenantQuota.Default };

        using var response = await client.PostAsync("/api/v1/requests", draft);

        Assert.Equal(["Ask for more than the current quota in at least one dimension."],
            (await response.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors("requestedQuota"));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_bad_request()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        using var content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("/api/v1/requests", content, Ct);

        Assert.Equal("The request could not be read: check its JSON body and its parameters.", (await response.ExpectAsync(HttpStatusCode.BadRequest)).Detail());
    }

    [Fact]
    public async Task Preflight_shows_the_quota_the_verdict_and_the_cost_and_saves_nothing()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        using var before = await client.GetAsync($"/api/v1/requests?tenantId={await portal.AcmeAsync()}&limit=200", Ct);
        var count = (await before.ExpectAsync(HttpStatusCode.OK)).Items().Count;

        using var response = await client.PostAsync("/api/v1/requests/preflight", await SmallVmAsync(client, "preflight-only"));

        var preflight = await response.ExpectAsync(HttpStatusCode.OK);
        Assert.True(preflight.GetProperty("canSubmit").GetBoolean());
        Assert.True(preflight.GetProperty("verdict").GetProperty("autoApproves").GetBoolean());
        Assert.Equal(5, preflight.GetProperty("quota").GetProperty("lines").GetArrayLength());
        using var after = await client.GetAsync($"/api/v1/requests?tenantId={await portal.AcmeAsync()}&limit=200", Ct);
        Assert.Equal(count, (await after.ExpectAsync(HttpStatusCode.OK)).Items().Count);
    }

    [Fact]
    public async Task The_list_names_the_tenants_requests_newest_first_and_a_member_sees_only_their_tenants()
    {
        var first = await portal.PendingRequestAsync();
        var second = await portal.PendingRequestAsync();
        var globex = await portal.PendingRequestAsync(ApiPortal.Owner, await portal.GlobexAsync());
        using var member = await portal.ClientAsync(ApiPortal.Member);

        using var response = await member.GetAsync("/api/v1/requests?limit=200", Ct);

        var ids = (await response.ExpectAsync(HttpStatusCode.OK)).Items().Select(r => r.Id()).ToList();
        Assert.True(ids.IndexOf(second) < ids.IndexOf(first) && ids.IndexOf(first) >= 0);
        Assert.DoesNotContain(globex, ids);
    }

    [Fact]
    public async Task The_requester_cancels_with_the_version_read_and_a_stale_or_second_cancel_is_refused()
    {
        var id = await portal.PendingRequestAsync();
        using var client = await portal.ClientAsync(ApiPortal.Member);
        using var read = await client.GetAsync($"/api/v1/requests/{id}", Ct);
        var etag = read.Headers.ETag!.Tag;

        using var stale = await client.PostAsync($"/api/v1/requests/{id}/cancel", headers: new Dictionary<string, string> { ["If-Match"] = "\"0\"" });
        using var cancelled = await client.PostAsync($"/api/v1/requests/{id}/cancel", headers: new Dictionary<string, string> { ["If-Match"] = etag });
        using var again = await client.PostAsync($"/api/v1/requests/{id}/cancel");

        Assert.StartsWith("The request changed since you read it", (await stale.ExpectAsync(HttpStatusCode.PreconditionFailed)).Detail(), StringComparison.Ordinal);
        var body = await cancelled.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Cancelled", body.GetProperty("request").GetProperty("state").GetString());
        Assert.False(body.GetProperty("canCancel").GetBoolean());
        Assert.NotEqual(etag, cancelled.Headers.ETag!.Tag);
        Assert.Equal(["The request is already cancelled; it cannot be cancelled."], (await again.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(""));
    }

    [Fact]
    public async Task A_member_who_did_not_ask_cannot_cancel_and_is_told_nothing_exists()
    {
        var id = await portal.PendingRequestAsync(ApiPortal.Owner);
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.PostAsync($"/api/v1/requests/{id}/cancel");

        Assert.Equal("This request does not exist or you may not see it.", (await response.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal(RequestState.PendingApproval, (await portal.Services.GetRequiredService<RequestQueries>().GetAsync(await portal.ActorAsync(ApiPortal.Owner), id, Ct)).Request.State);
    }

    /// <summary>A new VM of the tiny test template at size small for 7 days: within the demo policy's auto-approval.</summary>
    private async Task<RequestDraft> SmallVmAsync(HttpClient client, string name)
    {
        using var templates = await client.GetAsync("/api/v1/catalog/templates", Ct);
        var tiny = (await templates.ExpectAsync(HttpStatusCode.OK)).Items().Single(t => t.GetProperty("name").GetString() == "Tiny test guest");
        using var sizes = await client.GetAsync($"/api/v1/catalog/templates/{tiny.Id()}/sizes", Ct);
        var small = (await sizes.ExpectAsync(HttpStatusCode.OK)).Items().Single(s => s.GetProperty("name").GetString() == "small");
        return new RequestDraft { Kind = RequestKind.NewVm, TenantId = await portal.AcmeAsync(), Name = name, TemplateId = tiny.Id(), SizeId = small.Id(), LeaseDays = 7 };
    }
}
