using MudBlazor;

namespace VirtPortal.Web.Components.Layout;

internal static class PortalTheme
{
    // System fonts only: the portal must render the same with no internet (no web-font download).
    private static readonly string[] FontStack = ["system-ui", "-apple-system", "Segoe UI", "Helvetica", "Arial", "sans-serif"];

    /// <summary>The one theme of every page: nothing changes it at run time (dark mode picks its dark palette).</summary>
    public static MudTheme Shared { get; } = Create();

    private static MudTheme Create() => new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1565c0",
            Secondary = "#00897b",
            AppbarBackground = "#1565c0",
            Background = "#f4f6fa",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#64b5f6",
            Secondary = "#4db6ac",
            AppbarBackground = "#1a1f2b",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = FontStack },
        },
    };
}
