using Microsoft.Extensions.Options;

namespace VirtPortal.Web.Hubs;

/// <summary>
/// Refuses a browser page of a foreign origin before the hub's negotiate or websocket upgrade is accepted.
/// Browsers send the portal's cookie with a cross-site websocket and CORS does not cover websockets
/// (OpenStack Nova, CVE-2015-0259), so only the Origin header tells a portal page from someone else's.
/// A request without Origin is not a browser page and goes on to authentication as usual.
/// </summary>
public sealed partial class LiveOriginCheck(RequestDelegate next, IOptions<LiveOptions> options, ILogger<LiveOriginCheck> logger)
{
    private readonly HashSet<string> allowed = [.. options.Value.AllowedOrigins.Select(Normalize).OfType<string>()];

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Path.StartsWithSegments(LiveHub.Path) || !context.Request.Headers.TryGetValue("Origin", out var origins))
            return next(context);

        var origin = origins.ToString();
        var own = Normalize($"{context.Request.Scheme}://{context.Request.Host}");
        var normalized = Normalize(origin);
        if (normalized is not null && (normalized == own || allowed.Contains(normalized)))
            return next(context);

        LogRefused(origin, context.Request.Path);
        return LiveHubExtensions.Refuse(context, StatusCodes.Status403Forbidden);
    }

    /// <summary>"HTTPS://Portal.example.com:443/" → "https://portal.example.com"; null when it is no http(s) origin ("null", a path).</summary>
    public static string? Normalize(string? origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            return null;
        return uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
    }

    [LoggerMessage(LogLevel.Warning, "Refused a live connection from origin {Origin} ({Path})")]
    private partial void LogRefused(string origin, PathString path);
}
