using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VirtPortal.Core.Live;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Hubs;

public static class LiveHubExtensions
{
    /// <summary>
    /// The live hub: SignalR, its authorization policy (the sign-in cookie for pages, a personal API token for
    /// scripts), the relay from the LiveUpdates bus and the revalidation of open connections.
    /// </summary>
    public static WebApplicationBuilder AddPortalLive(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<LiveOptions>().Bind(builder.Configuration.GetSection(LiveOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        // A resync of LiveResync.MaxEntities ids and versions is about 50 KB; SignalR's default limit is 32 KB.
        services.AddSignalR().AddHubOptions<LiveHub>(hub => hub.MaximumReceiveMessageSize = 128 * 1024);
        services.AddAuthorizationBuilder().AddPolicy(LiveHub.Policy, policy => policy
            // The cookie first: its challenge only sets the status, the token's then writes why.
            .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme, ApiTokenDefaults.Scheme)
            .RequireAuthenticatedUser());

        // A script is told 401/403, not sent to the sign-in page.
        services.Configure<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme, cookie =>
        {
            var toLogin = cookie.Events.OnRedirectToLogin;
            var toDenied = cookie.Events.OnRedirectToAccessDenied;
            cookie.Events.OnRedirectToLogin = context => IsLive(context.Request) ? Refuse(context.HttpContext, StatusCodes.Status401Unauthorized) : toLogin(context);
            cookie.Events.OnRedirectToAccessDenied = context => IsLive(context.Request) ? Refuse(context.HttpContext, StatusCodes.Status403Forbidden) : toDenied(context);
        });

        services.TryAddSingleton<TrustedOrigins>();
        services.AddSingleton<LiveAudiences>();
        services.AddSingleton<LiveResync>();
        services.AddSingleton<LiveConnections>();
        services.AddHostedService<LiveRelay>();
        services.AddHostedService<LiveRevalidator>();
        return builder;
    }

    /// <summary>The Origin check on the hub's path, then the hub itself.</summary>
    public static WebApplication MapPortalLive(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<LiveOriginCheck>();
        app.MapHub<LiveHub>(LiveHub.Path);
        return app;
    }

    private static bool IsLive(HttpRequest request) => request.Path.StartsWithSegments(LiveHub.Path);

    /// <summary>A bare status: the portal's status-code pages are for browsers on pages, not for the hub.</summary>
    internal static Task Refuse(HttpContext context, int status)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            pages.Enabled = false;
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
