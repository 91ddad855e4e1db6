using System.Net;
using VirtPortal.Web.Components.Layout;

namespace VirtPortal.Web.Tests.Hosting;

/// <summary>The theme's stylesheets, served once for every page instead of a &lt;style&gt; in every circuit.</summary>
public sealed class ThemeStylesheetTests(PortalAppFactory portal) : IClassFixture<PortalAppFactory>
{
    [Theory]
    [InlineData(false, "--mud-palette-primary: rgba(21,101,192,1)")]
    [InlineData(true, "--mud-palette-primary: rgba(100,181,246,1)")]
    public async Task Each_stylesheet_carries_its_palette_and_may_be_cached_for_good(bool dark, string primary)
    {
        using var client = portal.CreateBrowser();

        using var response = await client.GetAsync(new Uri(ThemeStylesheet.Href(dark), UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        var css = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains(":root", css, StringComparison.Ordinal);
        Assert.Contains(primary, css, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("system-ui", css, StringComparison.Ordinal);
        Assert.DoesNotContain("&#", css, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_theme_is_not_found()
    {
        using var client = portal.CreateBrowser();

        using var response = await client.GetAsync(new Uri("theme/sepia.css", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
