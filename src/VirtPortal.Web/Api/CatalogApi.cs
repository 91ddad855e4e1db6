using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;

namespace VirtPortal.Web.Api;

/// <summary>The catalog one requests from: enabled VM templates, VM sizes and database offerings.</summary>
public static class CatalogApi
{
    public static RouteGroupBuilder MapCatalogApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/catalog").WithTags("Catalog").WithMetadata(new ApiSubject("catalog item"));
        group.MapGet("/templates", ListTemplatesAsync).WithName("ListTemplates")
            .WithSummary("List the VM templates one can request").WithDescription("Enabled templates only; allowedSizeIds empty means every enabled size.")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.TemplateView));
        group.MapGet("/templates/{id:guid}/sizes", ListTemplateSizesAsync).WithName("ListTemplateSizes").WithMetadata(new ApiSubject("template"))
            .WithSummary("List the sizes a template runs at").WithExamples(response: ApiExamples.PageOf(ApiExamples.SizeView));
        group.MapGet("/sizes", ListSizesAsync).WithName("ListSizes").WithSummary("List the VM sizes one can request")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.SizeView));
        group.MapGet("/offerings", ListOfferingsAsync).WithName("ListOfferings").WithSummary("List the database offerings one can request")
            .WithExamples(response: ApiExamples.PageOf(ApiExamples.OfferingView));
        return group;
    }

    private static async Task<Ok<ApiPage<TemplateView>>> ListTemplatesAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.ListTemplatesAsync(user.Actor(), includeDisabled: false, ct), page.ToRequest(), t => t.Id)));

    private static async Task<Ok<ApiPage<SizeView>>> ListTemplateSizesAsync(
        Guid id, ClaimsPrincipal user, [AsParameters] PageQuery page, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.SizesForTemplateAsync(user.Actor(), id, ct), page.ToRequest(), s => s.Id)));

    private static async Task<Ok<ApiPage<SizeView>>> ListSizesAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.ListSizesAsync(user.Actor(), includeDisabled: false, ct), page.ToRequest(), s => s.Id)));

    private static async Task<Ok<ApiPage<OfferingView>>> ListOfferingsAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, CatalogService catalog, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Paging.Within(await catalog.ListOfferingsAsync(user.Actor(), includeDisabled: false, ct), page.ToRequest(), o => o.Id)));
}
