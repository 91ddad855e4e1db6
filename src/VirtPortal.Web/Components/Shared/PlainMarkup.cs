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
}
