using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Api;

/// <summary>An endpoint that takes <c>If-Match</c>: the document says so, and that a stale version gets 412.</summary>
public sealed class VersionedChange
{
    public static VersionedChange Instance { get; } = new();
}

/// <summary>
/// The OpenAPI document of the API at <see cref="PortalRoutes.OpenApiDocument"/> and its reference page (Scalar)
/// at <see cref="PortalRoutes.ApiReference"/>, both served to anyone: they describe the API, not its data.
/// Every operation gets the token scheme, its examples (<see cref="ApiExample"/>), the <c>Idempotency-Key</c>
/// header on POSTs and <c>If-Match</c> where it applies.
/// </summary>
public static class ApiDocument
{
    public const string DocumentName = "v1";
    private const string SecurityScheme = "token";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => ("/" + description.RelativePath).StartsWith(PortalApi.Prefix + "/", StringComparison.Ordinal);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "VirtPortal API",
                    Version = DocumentName,
                    Description = "Everything the portal's pages do, for scripts. Send a personal API token (user menu, API tokens) as "
                        + "`Authorization: Bearer vpt_…`; it does what its user may, narrowed to its tenant and to reading when it is so limited. "
                        + "Errors are ProblemDetails; lists are newest first, paged by `cursor` and `limit`; every POST takes an `Idempotency-Key`.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SecurityScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "vpt_… (a personal API token)",
                    Description = "A personal API token, made on the API tokens page of the user menu.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, document)] = [] }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var json = context.ApplicationServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
                if (metadata.OfType<ApiExample>().LastOrDefault() is { } example)
                {
                    if (example.Request is { } request && operation.RequestBody?.Content is { } body)
                        foreach (var media in body.Values)
                            media.Example = JsonSerializer.SerializeToNode(request, request.GetType(), json);
                    if (example.Response is { } response && operation.Responses?.FirstOrDefault(r => r.Key.StartsWith('2')).Value?.Content is { } answer)
                        foreach (var media in answer.Values)
                            media.Example = JsonSerializer.SerializeToNode(response, response.GetType(), json);
                }

                operation.Parameters ??= [];
                if (string.Equals(context.Description.HttpMethod, HttpMethods.Post, StringComparison.OrdinalIgnoreCase))
                    operation.Parameters.Add(Header(IdempotencyMiddleware.Header,
                        "Any unique string (a UUID): a repeat with the same key and body within 24 hours gets the first answer again and changes nothing; with another body, 422."));
                if (metadata.OfType<VersionedChange>().Any())
                {
                    operation.Parameters.Add(Header("If-Match", "The ETag of the version read (\"7\"): a change to a newer version is refused with 412."));
                    operation.Responses ??= [];
                    operation.Responses["412"] = new OpenApiResponse { Description = "It changed since that version was read." };
                }

                return Task.CompletedTask;
            });
        });

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference(PortalRoutes.ApiReference, options => options
            .WithTitle("VirtPortal API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .AddPreferredSecuritySchemes([SecurityScheme])
            .DisableAgent()
            .DisableMcp()
            .DisableTelemetry()
            .DisableDefaultFonts())
            .AllowAnonymous();
        return app;
    }

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = false,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
