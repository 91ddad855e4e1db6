using Microsoft.AspNetCore.Components;

namespace VirtPortal.Web.Components.Shared;

/// <summary>
/// Markup that MudBlazor components would render, written as plain elements with the same classes for
/// pieces that never change on their own (no events, no state): a component instance costs every open
/// circuit its object, its parameter state and two render-tree buffers (about 2-3 KiB each, see the
/// circuit-memory section of docs/PERFORMANCE.md), a fragment costs nothing once rendered.
/// </summary>
internal static class PlainMarkup
{
    /// <summary>What <c>MudChip</c> renders for a chip that is not clickable: <paramref name="classes"/> are the variant, size and colour classes.</summary>
    public static RenderFragment Chip(string classes, string text, string? testId = null, string? state = null, string? title = null) => builder =>
    {
        builder.OpenElement(0, "div");
        builder.AddAttribute(1, "class", "mud-chip-container");
        builder.OpenElement(2, "div");
        builder.AddAttribute(3, "class", "mud-chip " + classes);
        builder.AddAttribute(4, "tabindex", "-1");
        builder.AddAttribute(5, "data-testid", testId);
        builder.AddAttribute(6, "data-state", state);
        builder.AddAttribute(7, "title", title);
        builder.OpenElement(8, "span");
        builder.AddAttribute(9, "class", "mud-chip-content");
        builder.AddContent(10, text);
        builder.CloseElement();
        builder.CloseElement();
        builder.CloseElement();
    };

    /// <summary>What <c>MudIcon</c> renders for one of MudBlazor's SVG icons (<c>Icons.Material.*</c>): <paramref name="classes"/> are its size and colour classes.</summary>
    public static RenderFragment Icon(string svg, string classes = "mud-icon-size-medium") => builder =>
    {
        builder.OpenElement(0, "svg");
        builder.AddAttribute(1, "class", "mud-icon-root mud-svg-icon " + classes);
        builder.AddAttribute(2, "focusable", "false");
        builder.AddAttribute(3, "viewBox", "0 0 24 24");
        builder.AddAttribute(4, "aria-hidden", "true");
        builder.AddAttribute(5, "role", "img");
        builder.AddMarkupContent(6, svg);
        builder.CloseElement();
    };

    /// <summary>The classes <c>MudIconButton</c> gives an icon button with <c>Color.Inherit</c>; <paramref name="extra"/> adds e.g. its edge class.</summary>
    public static string IconButtonClasses(string? extra = null) =>
        "mud-button-root mud-icon-button mud-inherit-text hover:mud-inherit-hover mud-ripple mud-ripple-icon" + (extra is null ? "" : " " + extra);
}
