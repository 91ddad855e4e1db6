using System.Net;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Tests.Api;

/// <summary>The OpenAPI document and its reference page are open to anyone and served by the portal itself (no CDN).</summary>
public sealed class ApiDocumentTests(ApiPortal portal) : IClassFixture<ApiPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_reference_page_is_served_with_its_script_and_points_at_the_document()
    {
        using var anonymous = portal.CreateClient();

        using var page = await anonymous.GetAsync(PortalRoutes.ApiReference + "/", Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);
        using var script = await anonymous.GetAsync(PortalRoutes.ApiReference + "/scalar.js", Ct);
        using var document = await anonymous.GetAsync(PortalRoutes.OpenApiDocument, Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>VirtPortal API</title>", html, StringComparison.Ordinal);
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        Assert.DoesNotContain("cdn.", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("javascript", script.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var openapi = await document.ExpectAsync(HttpStatusCode.OK);
        Assert.StartsWith("3.", openapi.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("VirtPortal API", openapi.GetProperty("info").GetProperty("title").GetString());
    }

    [Fact]
    public async Task The_document_holds_only_the_api_and_no_page_of_the_portal()
    {
        using var anonymous = portal.CreateClient();

        using var document = await anonymous.GetAsync(PortalRoutes.OpenApiDocument, Ct);

        var paths = (await document.ExpectAsync(HttpStatusCode.OK)).GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.StartsWith("/api/v1/", p, StringComparison.Ordinal));
    }
}
