using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using VirtPortal.Web.Api;
using VirtPortal.Web.Components;

namespace VirtPortal.Web.Security;

/// <summary>How many calls fit in one <see cref="Window"/>: per API token, per user across their tokens, and sign-in attempts per client address.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Api:RateLimits";

    [Range(1, 1_000_000, ErrorMessage = "Api:RateLimits:PerToken must be between 1 and 1000000.")]
    public int PerToken { get; set; } = 600;

    [Range(1, 1_000_000, ErrorMessage = "Api:RateLimits:PerUser must be between 1 and 1000000.")]
    public int PerUser { get; set; } = 1200;

    [Range(1, 1_000_000, ErrorMessage = "Api:RateLimits:SignInPerAddress must be between 1 and 1000000.")]
    public int SignInPerAddress { get; set; } = 30;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Api:RateLimits:Window must be between 1 second and 1 hour.")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// ASP.NET Core's rate limiter, in fixed windows: every call made with an API token counts against the token
/// (API and live hub alike), every API call against its user (all their tokens together), and every posted
/// sign-in form against the client's address. A call over a limit gets 429 with <c>Retry-After</c> (seconds to
/// the window's end) and a ProblemDetails that names the limit; nothing of it runs. Behind a reverse proxy the
/// client address is the proxy's unless <c>ReverseProxy:TrustedProxies</c> names it (<see cref="Hosting.ReverseProxy"/>).
/// </summary>
public static class PortalRateLimits
{
    public static IServiceCollection AddPortalRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((options, configured) =>
        {
            var limits = configured.Value;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => ApiTokenDefaults.ScopeOf(context.User) is { } token
                    ? Window("token:" + token.TokenId, limits.PerToken, limits.Window)
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context => IsApi(context) && context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } user
                    ? Window("user:" + user, limits.PerUser, limits.Window)
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context => IsSignIn(context)
                    ? Window("sign-in:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), limits.SignInPerAddress, limits.Window)
                    : RateLimitPartition.GetNoLimiter("")));
            options.OnRejected = (rejected, ct) => RefuseAsync(rejected.HttpContext, rejected.Lease, limits, ct);
        });
        return services;
    }

    public static IApplicationBuilder UsePortalRateLimits(this IApplicationBuilder app) => app.UseRateLimiter();

    private static RateLimitPartition<string> Window(string key, int permits, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 });

    private static bool IsApi(HttpContext context) => context.Request.Path.StartsWithSegments(PortalApi.Prefix);

    private static bool IsSignIn(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments(PortalRoutes.Login, StringComparison.OrdinalIgnoreCase);

    private static async ValueTask RefuseAsync(HttpContext context, RateLimitLease lease, RateLimitOptions limits, CancellationToken ct)
    {
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : (int)limits.Window.TotalSeconds;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var what = IsSignIn(context) ? $"at most {limits.SignInPerAddress} sign-in attempts from one address"
            : ApiTokenDefaults.ScopeOf(context.User) is not null && !IsApi(context) ? $"at most {limits.PerToken} calls per API token"
            : $"at most {limits.PerToken} calls per API token and {limits.PerUser} per user";
        await TypedResults.Problem($"Too many requests: {what} in {Words(limits.Window)}. Try again in {seconds} s.", statusCode: StatusCodes.Status429TooManyRequests)
            .ExecuteAsync(context);
    }

    private static string Words(TimeSpan window) => window == TimeSpan.FromMinutes(1) ? "a minute" : $"{window.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
}
