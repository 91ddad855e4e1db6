using System.Net;

namespace VirtPortal.Web.Tests.Api;

/// <summary>The catalog lists, and the paging every list shares: a cursor, a limit, one stable order.</summary>
public sealed class CatalogApiTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_member_pages_through_the_sizes_one_at_a_time_newest_first_and_sees_each_once()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);
        using var whole = await client.GetAsync("/api/v1/catalog/sizes", Ct);
        var all = (await whole.ExpectAsync(HttpStatusCode.OK)).Items().Select(s => s.Id()).ToList();

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            using var response = await client.GetAsync("/api/v1/catalog/sizes?limit=1" + (cursor is null ? "" : "&cursor=" + cursor), Ct);
            var page = await response.ExpectAsync(HttpStatusCode.OK);
            seen.AddRange(page.Items().Select(s => s.Id()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(3, all.Count);
        Assert.Equal(all, seen);
        Assert.Equal(all.OrderDescending(), all);
    }

    [Fact]
    public async Task Templates_offerings_and_a_templates_sizes_are_listed_with_what_a_request_needs()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var templates = await client.GetAsync("/api/v1/catalog/templates", Ct);
        var tiny = (await templates.ExpectAsync(HttpStatusCode.OK)).Items().Single(t => t.GetProperty("name").GetString() == "Tiny test guest");
        using var sizes = await client.GetAsync($"/api/v1/catalog/templates/{tiny.Id()}/sizes", Ct);
        using var offerings = await client.GetAsync("/api/v1/catalog/offerings", Ct);

        Assert.Equal(["medium", "small"], (await sizes.ExpectAsync(HttpStatusCode.OK)).Items().Select(s => s.GetProperty("name").GetString()).Order());
        Assert.Equal(2, tiny.GetProperty("allowedSizeIds").GetArrayLength());
        Assert.Contains((await offerings.ExpectAsync(HttpStatusCode.OK)).Items(), o => o.GetProperty("engine").GetString() == "PostgreSql");
    }

    [Theory]
    [InlineData("limit=0", "limit", "The limit is between 1 and 200.")]
    [InlineData("limit=201", "limit", "The limit is between 1 and 200.")]
    [InlineData("cursor=not-ours", "cursor", "Use the nextCursor of the previous page.")]
    public async Task A_bad_page_query_is_refused_on_its_field(string query, string field, string message)
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync("/api/v1/catalog/sizes?" + query, Ct);

        Assert.Equal([message], (await response.ExpectAsync(HttpStatusCode.UnprocessableEntity)).FieldErrors(field));
    }

    [Fact]
    public async Task An_unknown_templates_sizes_are_not_found()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync($"/api/v1/catalog/templates/{Guid.NewGuid()}/sizes", Ct);

        Assert.Equal("That template does not exist.", (await response.ExpectAsync(HttpStatusCode.NotFound)).Detail());
    }

    [Fact]
    public async Task A_limit_that_is_not_a_number_is_a_bad_request_with_a_problem_body()
    {
        using var client = await portal.ClientAsync(ApiPortal.Member);

        using var response = await client.GetAsync("/api/v1/catalog/sizes?limit=many", Ct);

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(400, (await response.ExpectAsync(HttpStatusCode.BadRequest)).GetProperty("status").GetInt32());
    }
}
