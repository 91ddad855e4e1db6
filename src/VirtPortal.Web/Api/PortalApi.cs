using System.Security.Claims;
using System.Text.Json.Serialization;
using VirtPortal.Core.Common;
using VirtPortal.Core.Users;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Api;

/// <summary>
/// The REST API at <see cref="Prefix"/>: one group per feature, each in a file of its own (as eShop has them),
/// all calling the Core services the UI calls, so the access service, validation, quotas, policies and audit
/// are the same. What every endpoint shares is set here once: personal API tokens only (<see cref="Policy"/>),
/// ProblemDetails for refusals (<see cref="ApiErrors"/>), <c>Idempotency-Key</c> on every POST, enums as
/// strings. docs/decisions/0012-rest-api-and-tokens.md explains the choices.
/// </summary>
public static class PortalApi
{
    public const string Prefix = "/api/v1";

    /// <summary>The API's authorization policy: a personal API token (never the sign-in cookie, so no page of another site can call it as the user).</summary>
    public const string Policy = "api";

    public static WebApplicationBuilder AddPortalApi(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(ApiTokenDefaults.Scheme)
            .RequireAuthenticatedUser());
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        // A body that does not bind is a 400 ProblemDetails in every environment, never the developer page (which echoes the token).
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
        services.AddSingleton<KeyedGate>();
        services.AddApiDocument();
        return builder;
    }

    public static WebApplication MapPortalApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseApiErrorBodies(Prefix);
        app.UseMiddleware<IdempotencyMiddleware>();

        app.MapApiDocument();
        var api = app.MapGroup(Prefix)
            .RequireAuthorization(Policy)
            .AddEndpointFilter(ApiErrors.TranslateAsync)
            .WithMetadata(IdempotentEndpoint.Instance)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapCatalogApi();
        api.MapRequestsApi();
        api.MapApprovalsApi();
        api.MapResourcesApi();
        api.MapOperationsApi();
        api.MapTokensApi();
        api.MapConsoleApi();
        api.MapMetricsApi();
        api.MapDatabasesApi();
        api.MapTenantsApi();
        api.MapUsersApi();
        api.MapHostsApi();
        api.MapDatabaseServersApi();
        api.MapDriftApi();
        api.MapAuditApi();
        api.MapWebhooksApi();
        return app;
    }

    /// <summary>An API path, for Location headers: "/requests/1" → "/api/v1/requests/1".</summary>
    public static string Path(string path) => Prefix + path;

    /// <summary>The caller as a Core actor; the API's policy has let only signed-in principals through.</summary>
    public static Actor Actor(this ClaimsPrincipal user) =>
        ActorAccessor.FromPrincipal(user) ?? throw new PortalAccessDeniedException("Sign in first.");
}
