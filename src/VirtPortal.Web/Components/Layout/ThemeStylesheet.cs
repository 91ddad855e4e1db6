using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;

namespace VirtPortal.Web.Components.Layout;

/// <summary>
/// The portal theme's CSS variables (and MudBlazor's scrollbar rules), light and dark, served as two
/// cacheable stylesheets. <see cref="MudThemeProvider"/> would render the same ~12 KB as a &lt;style&gt; in
/// every circuit's render tree (about 36 KiB of managed heap per open page, see the circuit-memory
/// section of docs/PERFORMANCE.md); here MudThemeProvider renders it once per process, outside any
/// circuit, so the stylesheet is exactly what it would have written.
/// </summary>
internal static partial class ThemeStylesheet
{
    // The URL changes with every build of the portal, so a browser may cache it for good.
    private static readonly string Version = typeof(ThemeStylesheet).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12];

    /// <summary>Where the light (App.razor's head) or the dark stylesheet (added by the layout in dark mode) is served.</summary>
    public static string Href(bool dark) => $"theme/{(dark ? "dark" : "light")}.css?v={Version}";

    public static IEndpointRouteBuilder MapThemeStylesheets(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var light = new Lazy<Task<string>>(() => RenderAsync(services, dark: false));
        var dark = new Lazy<Task<string>>(() => RenderAsync(services, dark: true));
        endpoints.MapGet("/theme/{mode}.css", async (string mode, HttpContext http) =>
        {
            var css = mode switch { "light" => light, "dark" => dark, _ => null };
            if (css is null)
                return Results.NotFound();
            http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            return Results.Text(await css.Value, "text/css", Encoding.UTF8);
        }).AllowAnonymous().ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<string> RenderAsync(IServiceProvider services, bool dark)
    {
        await using var scope = services.CreateAsyncScope();
        await using var renderer = new HtmlRenderer(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<ILoggerFactory>());
        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<MudThemeProvider>(ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(MudThemeProvider.Theme)] = PortalTheme.Shared,
                [nameof(MudThemeProvider.IsDarkMode)] = dark,
                [nameof(MudThemeProvider.ObserveSystemDarkModeChange)] = false,
            }));
            return output.ToHtmlString();
        });
        // The provider writes <style> elements; their text (HTML-encoded by the static renderer) is the stylesheet.
        return string.Join('\n', StyleElement().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)));
    }

    [GeneratedRegex("<style[^>]*>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleElement();
}
