using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;

namespace VirtPortal.Web.Api;

/// <summary>Whether a catalog item is offered for new requests.</summary>
public sealed record EnabledBody([property: Description("true to offer it for new requests, false to stop (resources built from it keep working).")] bool Enabled);

/// <summary>
/// The catalog: the enabled VM templates, VM sizes and database offerings one requests from, and for admins what the
/// catalog page does with them (every item, add, change, enable and disable). Items have versions: ETag and If-Match.
/// </summary>
public static class CatalogApi
{
    private const string Versioned = " The ETag is the item's version, for If-Match on its changes.";
    private const string IfMatch = " With If-Match, only at that version (412 otherwise).";

    public static RouteGroupBuilder MapCatalogApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/catalog").WithTags("Catalog").WithMetadata(new ApiSubject("catalog item"));
        MapTemplates(group);
        MapSizes(group);
        MapOfferings(group);
        return group;
    }

    private static void MapTemplates(RouteGroupBuilder group)
    {
        group.MapGet("/templates", ListTemplatesAsync).WithName("ListTemplates")
            .WithSummary("List the VM templates one can request")
            .WithDescription("Enabled templates only, or every one with includeDisabled=true (admins); allowedSizeIds empty means every enabled size.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.TemplateView));
        group.MapGet("/templates/{id:guid}", GetTemplateAsync).WithName("GetTemplate").WithMetadata(new ApiSubject("template"))
            .WithSummary("Get a VM template").WithDescription("A disabled one only for admins." + Versioned)
            .WithExamples(response: ApiExamples.TemplateView);
        group.MapPost("/templates", CreateTemplateAsync).WithName("CreateTemplate")
            .WithSummary("Add a VM template").WithDescription("Admins only. Answers 201 with the template and its Location.")
            .WithExamples(ApiExamples.TemplateInput, ApiExamples.TemplateView);
        group.MapPut("/templates/{id:guid}", UpdateTemplateAsync).WithName("UpdateTemplate").WithMetadata(new ApiSubject("template"))
            .WithSummary("Change a VM template").WithDescription("Admins only. The whole form, as on the catalog page." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(ApiExamples.TemplateInput, ApiExamples.TemplateView);
        group.MapPut("/templates/{id:guid}/enabled", SetTemplateEnabledAsync).WithName("SetTemplateEnabled").WithMetadata(new ApiSubject("template"))
            .WithSummary("Offer a VM template for new requests, or stop").WithDescription("Admins only. VMs built from it keep working." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(new EnabledBody(false), ApiExamples.TemplateView with { Enabled = false });
        group.MapGet("/templates/{id:guid}/sizes", ListTemplateSizesAsync).WithName("ListTemplateSizes").WithMetadata(new ApiSubject("template"))
            .WithSummary("List the sizes a template runs at").WithExamples(response: ApiExamples.PageOf(ApiExamples.SizeView));
    }

    private static void MapSizes(RouteGroupBuilder group)
    {
        group.MapGet("/sizes", ListSizesAsync).WithName("ListSizes").WithSummary("List the VM sizes one can request")
            .WithDescription("Enabled sizes only, or every one with includeDisabled=true (admins).")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.SizeView));
        group.MapGet("/sizes/{id:guid}", GetSizeAsync).WithName("GetSize").WithMetadata(new ApiSubject("size"))
            .WithSummary("Get a VM size").WithDescription("A disabled one only for admins." + Versioned)
            .WithExamples(response: ApiExamples.SizeView);
        group.MapPost("/sizes", CreateSizeAsync).WithName("CreateSize")
            .WithSummary("Add a VM size").WithDescription("Admins only. Answers 201 with the size and its Location.")
            .WithExamples(ApiExamples.SizeInput, ApiExamples.SizeView);
        group.MapPut("/sizes/{id:guid}", UpdateSizeAsync).WithName("UpdateSize").WithMetadata(new ApiSubject("size"))
            .WithSummary("Change a VM size").WithDescription("Admins only. VMs already at this size keep what they have." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(ApiExamples.SizeInput, ApiExamples.SizeView);
        group.MapPut("/sizes/{id:guid}/enabled", SetSizeEnabledAsync).WithName("SetSizeEnabled").WithMetadata(new ApiSubject("size"))
            .WithSummary("Offer a VM size for new requests, or stop").WithDescription("Admins only. VMs at it keep working." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(new EnabledBody(false), ApiExamples.SizeView with { Enabled = false });
    }

    private static void MapOfferings(RouteGroupBuilder group)
    {
        group.MapGet("/offerings", ListOfferingsAsync).WithName("ListOfferings").WithSummary("List the database offerings one can request")
            .WithDescription("Enabled offerings only, or every one with includeDisabled=true (admins).")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.OfferingView));
        group.MapGet("/offerings/{id:guid}", GetOfferingAsync).WithName("GetOffering").WithMetadata(new ApiSubject("database offering"))
            .WithSummary("Get a database offering").WithDescription("A disabled one only for admins." + Versioned)
            .WithExamples(response: ApiExamples.OfferingView);
        group.MapPost("/offerings", CreateOfferingAsync).WithName("CreateOffering")
            .WithSummary("Add a database offering").WithDescription("Admins only. Answers 201 with the offering and its Location.")
            .WithExamples(ApiExamples.OfferingInput, ApiExamples.OfferingView);
        group.MapPut("/offerings/{id:guid}", UpdateOfferingAsync).WithName("UpdateOffering").WithMetadata(new ApiSubject("database offering"))
            .WithSummary("Change a database offering").WithDescription("Admins only. Databases made from it keep what they have." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(ApiExamples.OfferingInput, ApiExamples.OfferingView);
        group.MapPut("/offerings/{id:guid}/enabled", SetOfferingEnabledAsync).WithName("SetOfferingEnabled").WithMetadata(new ApiSubject("database offering"))
            .WithSummary("Offer a database offering for new requests, or stop").WithDescription("Admins only. Databases made from it keep working." + IfMatch)
            .WithMetadata(VersionedChange.Instance).WithExamples(new EnabledBody(false), ApiExamples.OfferingView with { Enabled = false });
    }

    // ---- templates ----------------------------------------------------------------------------

    private static async Task<Ok<ApiPage<TemplateView>>> ListTemplatesAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, bool? includeDisabled, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.ListTemplatesAsync(user.Actor(), includeDisabled ?? false, ct), page.ToRequest(), t => t.Id)));

    private static async Task<Ok<TemplateView>> GetTemplateAsync(Guid id, ClaimsPrincipal user, HttpResponse response, CatalogService catalog, CancellationToken ct) =>
        ApiVersions.Tagged(response, await catalog.GetTemplateAsync(user.Actor(), id, ct), t => t.Version);

    private static async Task<Created<TemplateView>> CreateTemplateAsync(TemplateInput body, ClaimsPrincipal user, HttpResponse response, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        var id = await catalog.CreateTemplateAsync(actor, body, ct);
        return ApiVersions.Created(response, PortalApi.Path($"/catalog/templates/{id}"), await catalog.GetTemplateAsync(actor, id, ct), t => t.Version);
    }

    private static async Task<Ok<TemplateView>> UpdateTemplateAsync(Guid id, TemplateInput body, ClaimsPrincipal user, HttpRequest request, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        await catalog.UpdateTemplateAsync(actor, id, body, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await catalog.GetTemplateAsync(actor, id, ct), t => t.Version);
    }

    private static async Task<Ok<TemplateView>> SetTemplateEnabledAsync(Guid id, EnabledBody body, ClaimsPrincipal user, HttpRequest request, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        await catalog.SetEnabledAsync(actor, CatalogItemKind.Template, id, body.Enabled, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await catalog.GetTemplateAsync(actor, id, ct), t => t.Version);
    }

    private static async Task<Ok<ApiPage<SizeView>>> ListTemplateSizesAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] PageQuery page, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.SizesForTemplateAsync(user.Actor(), id, ct), page.ToRequest(), s => s.Id)));

    // ---- sizes --------------------------------------------------------------------------------

    private static async Task<Ok<ApiPage<SizeView>>> ListSizesAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, bool? includeDisabled, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.ListSizesAsync(user.Actor(), includeDisabled ?? false, ct), page.ToRequest(), s => s.Id)));

    private static async Task<Ok<SizeView>> GetSizeAsync(Guid id, ClaimsPrincipal user, HttpResponse response, CatalogService catalog, CancellationToken ct) =>
        ApiVersions.Tagged(response, await catalog.GetSizeAsync(user.Actor(), id, ct), s => s.Version);

    private static async Task<Created<SizeView>> CreateSizeAsync(SizeInput body, ClaimsPrincipal user, HttpResponse response, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        var id = await catalog.CreateSizeAsync(actor, body, ct);
        return ApiVersions.Created(response, PortalApi.Path($"/catalog/sizes/{id}"), await catalog.GetSizeAsync(actor, id, ct), s => s.Version);
    }

    private static async Task<Ok<SizeView>> UpdateSizeAsync(Guid id, SizeInput body, ClaimsPrincipal user, HttpRequest request, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        await catalog.UpdateSizeAsync(actor, id, body, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await catalog.GetSizeAsync(actor, id, ct), s => s.Version);
    }

    private static async Task<Ok<SizeView>> SetSizeEnabledAsync(Guid id, EnabledBody body, ClaimsPrincipal user, HttpRequest request, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        await catalog.SetEnabledAsync(actor, CatalogItemKind.Size, id, body.Enabled, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await catalog.GetSizeAsync(actor, id, ct), s => s.Version);
    }

    // ---- offerings ----------------------------------------------------------------------------

    private static async Task<Ok<ApiPage<OfferingView>>> ListOfferingsAsync(
        ClaimsPrincipal user, [AsParameters] PageQuery page, bool? includeDisabled, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.ListOfferingsAsync(user.Actor(), includeDisabled ?? false, ct), page.ToRequest(), o => o.Id)));

    private static async Task<Ok<OfferingView>> GetOfferingAsync(Guid id, ClaimsPrincipal user, HttpResponse response, CatalogService catalog, CancellationToken ct) =>
        ApiVersions.Tagged(response, await catalog.GetOfferingAsync(user.Actor(), id, ct), o => o.Version);

    private static async Task<Created<OfferingView>> CreateOfferingAsync(OfferingInput body, ClaimsPrincipal user, HttpResponse response, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        var id = await catalog.CreateOfferingAsync(actor, body, ct);
        return ApiVersions.Created(response, PortalApi.Path($"/catalog/offerings/{id}"), await catalog.GetOfferingAsync(actor, id, ct), o => o.Version);
    }

    private static async Task<Ok<OfferingView>> UpdateOfferingAsync(Guid id, OfferingInput body, ClaimsPrincipal user, HttpRequest request, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        await catalog.UpdateOfferingAsync(actor, id, body, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await catalog.GetOfferingAsync(actor, id, ct), o => o.Version);
    }

    private static async Task<Ok<OfferingView>> SetOfferingEnabledAsync(Guid id, EnabledBody body, ClaimsPrincipal user, HttpRequest request, CatalogService catalog, CancellationToken ct)
    {
        var actor = user.Actor();
        await catalog.SetEnabledAsync(actor, CatalogItemKind.Offering, id, body.Enabled, ApiVersions.Expected(request), ct);
        return ApiVersions.Tagged(request.HttpContext.Response, await catalog.GetOfferingAsync(actor, id, ct), o => o.Version);
    }

}
