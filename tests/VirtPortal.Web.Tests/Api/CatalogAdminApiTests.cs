using System.Net;
using VirtPortal.Core.Catalog;

namespace VirtPortal.Web.Tests.Api;

/// <summary>What the admins' catalog page does, through the API: add, change (with versions), disable; and who may.</summary>
public sealed class CatalogAdminApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_adds_a_size_changes_it_at_its_version_and_a_stale_change_is_refused_with_412()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var name = Unique("size");

        using var created = await admin.PostAsync("/api/v1/catalog/sizes", new { name, vCpus = 2, ramMiB = 2048, diskGiB = 20, hourlyPrice = 0.02m });
        var size = await created.ExpectAsync(HttpStatusCode.Created);
        var id = size.Id();
        Assert.Equal($"/api/v1/catalog/sizes/{id}", created.Headers.Location?.OriginalString);
        var etag = created.Headers.ETag!.Tag;

        using var current = await admin.SendAsync(HttpMethod.Put, $"/api/v1/catalog/sizes/{id}", new { name, vCpus = 4, ramMiB = 4096, diskGiB = 20, hourlyPrice = 0.04m },
            new Dictionary<string, string> { ["If-Match"] = etag });
        using var stale = await admin.SendAsync(HttpMethod.Put, $"/api/v1/catalog/sizes/{id}", new { name, vCpus = 8, ramMiB = 8192, diskGiB = 20, hourlyPrice = 0.08m },
            new Dictionary<string, string> { ["If-Match"] = etag });
        using var staleDisable = await admin.SendAsync(HttpMethod.Put, $"/api/v1/catalog/sizes/{id}/enabled", new { enabled = false },
            new Dictionary<string, string> { ["If-Match"] = etag });

        Assert.Equal(4, (await current.ExpectAsync(HttpStatusCode.OK)).GetProperty("vCpus").GetInt32());
        Assert.NotEqual(etag, current.Headers.ETag?.Tag);
        foreach (var refused in new[] { stale, staleDisable })
            Assert.StartsWith("The size changed since you read it", (await refused.ExpectAsync(HttpStatusCode.PreconditionFailed)).Detail(), StringComparison.Ordinal);
        using var after = await admin.GetAsync($"/api/v1/catalog/sizes/{id}", Ct);
        var read = await after.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((4, true), (read.GetProperty("vCpus").GetInt32(), read.GetProperty("enabled").GetBoolean()));
        Assert.Equal(current.Headers.ETag?.Tag, after.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task A_disabled_template_is_gone_for_members_and_listed_for_admins_who_ask_for_disabled_ones()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        using var member = await portal.ClientAsync(ApiPortal.Member);
        using var created = await admin.PostAsync("/api/v1/catalog/templates",
            new { name = Unique("tpl"), imageRef = "tiny-test-guest", defaultLeaseDays = 7, hourlyPrice = 0m, allowedSizeIds = Array.Empty<Guid>() });
        var id = (await created.ExpectAsync(HttpStatusCode.Created)).Id();
        using var seen = await member.GetAsync($"/api/v1/catalog/templates/{id}", Ct);
        await seen.ExpectAsync(HttpStatusCode.OK);

        using var disabled = await admin.SendAsync(HttpMethod.Put, $"/api/v1/catalog/templates/{id}/enabled", new { enabled = false },
            new Dictionary<string, string> { ["If-Match"] = created.Headers.ETag!.Tag });

        Assert.False((await disabled.ExpectAsync(HttpStatusCode.OK)).GetProperty("enabled").GetBoolean());
        using var gone = await member.GetAsync($"/api/v1/catalog/templates/{id}", Ct);
        Assert.Equal("That template does not exist.", (await gone.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        using var memberList = await member.GetAsync("/api/v1/catalog/templates?limit=200", Ct);
        Assert.DoesNotContain((await memberList.ExpectAsync(HttpStatusCode.OK)).Items(), t => t.Id() == id);
        using var memberAll = await member.GetAsync("/api/v1/catalog/templates?includeDisabled=true", Ct);
        Assert.True(memberAll.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden, $"{(int)memberAll.StatusCode}");
        using var adminAll = await admin.GetAsync("/api/v1/catalog/templates?includeDisabled=true&limit=200", Ct);
        Assert.Contains((await adminAll.ExpectAsync(HttpStatusCode.OK)).Items(), t => t.Id() == id && !t.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task A_template_without_a_name_or_image_is_refused_on_its_fields_with_the_forms_texts_and_nothing_is_added()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        var before = await CountAsync(admin);
        var expected = CatalogRules.TemplateErrors(new TemplateInput("", null, null, "", 30, 0m, []));

        using var response = await admin.PostAsync("/api/v1/catalog/templates", new { name = "", imageRef = "", defaultLeaseDays = 30, hourlyPrice = 0m, allowedSizeIds = Array.Empty<Guid>() });

        var problem = await response.ExpectAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(expected[nameof(TemplateInput.Name)], problem.FieldErrors("name"));
        Assert.Equal(expected[nameof(TemplateInput.ImageRef)], problem.FieldErrors("imageRef"));
        Assert.Equal(before, await CountAsync(admin));
    }

    [Fact]
    public async Task A_member_may_not_add_or_change_catalog_items_and_nothing_changes()
    {
        using var admin = await portal.ClientAsync(ApiPortal.Admin);
        using var member = await portal.ClientAsync(ApiPortal.Owner);
        var before = await CountAsync(admin);
        using var sizes = await admin.GetAsync("/api/v1/catalog/sizes?limit=1", Ct);
        var size = (await sizes.ExpectAsync(HttpStatusCode.OK)).Items()[0];

        using var add = await member.PostAsync("/api/v1/catalog/templates", new { name = Unique("tpl"), imageRef = "x", defaultLeaseDays = 7, hourlyPrice = 0m, allowedSizeIds = Array.Empty<Guid>() });
        using var change = await member.SendAsync(HttpMethod.Put, $"/api/v1/catalog/sizes/{size.Id()}", new { name = Unique("size"), vCpus = 64, ramMiB = 1024, diskGiB = 1, hourlyPrice = 0m });
        using var disable = await member.SendAsync(HttpMethod.Put, $"/api/v1/catalog/sizes/{size.Id()}/enabled", new { enabled = false });

        foreach (var refused in new[] { add, change, disable })
            Assert.True(refused.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden, $"{refused.RequestMessage?.RequestUri}: {(int)refused.StatusCode}");
        Assert.Equal(before, await CountAsync(admin));
        using var after = await admin.GetAsync($"/api/v1/catalog/sizes/{size.Id()}", Ct);
        var read = await after.ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((size.GetProperty("vCpus").GetInt32(), true), (read.GetProperty("vCpus").GetInt32(), read.GetProperty("enabled").GetBoolean()));
    }

    private static async Task<int> CountAsync(HttpClient admin)
    {
        using var all = await admin.GetAsync("/api/v1/catalog/templates?includeDisabled=true&limit=200", Ct);
        return (await all.ExpectAsync(HttpStatusCode.OK)).Items().Count;
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..16];
}
