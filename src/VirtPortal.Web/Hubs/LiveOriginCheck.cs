using Microsoft.Extensions.Options;

namespace VirtPortal.Web.Hubs;

/// <summary>
/// Refuses a browser page of a foreign origin before the hub's negotiate or websocket upgrade is accepted.
/// Browsers send the portal's cookie with a cross-site websocket and CORS does not cover websockets
/// (OpenStack Nova, CVE-2015-0259), so only the Origin header tells a portal page from someone else's.
/// A request without Origin is not a browser page and goes on to authentication as usual. The console
/// proxy asks <see cref="TrustedOrigins"/> the same question and audits its refusals itself.
/// </summary>
public sealed partial class LiveOriginCheck(RequestDelegate next, TrustedOrigins origins, ILogger<LiveOriginCheck> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Path.StartsWithSegments(LiveHub.Path) || origins.Allows(context.Request, out var origin))
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

/// <summary>
/// The browser origins whose pages may open the portal's websockets (the live hub, the console): the
/// portal's own (scheme and host of the request) and <see cref="LiveOptions.AllowedOrigins"/>.
/// </summary>
public sealed class TrustedOrigins(IOptions<LiveOptions> options)
{
    private readonly HashSet<string> allowed = [.. options.Value.AllowedOrigins.Select(LiveOriginCheck.Normalize).OfType<string>()];

    /// <summary>
    /// True when the request has no Origin header (a script, not a browser page) or a trusted one;
    /// <paramref name="origin"/> is the header as sent ("" without one), for the refusal's log or audit entry.
    /// </summary>
    public bool Allows(HttpRequest request, out string origin)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.TryGetValue("Origin", out var sent))
        {
            origin = "";
            return true;
        }

        origin = sent.ToString();
        var normalized = LiveOriginCheck.Normalize(origin);
        return normalized is not null && (normalized == LiveOriginCheck.Normalize($"{request.Scheme}://{request.Host}") || allowed.Contains(normalized));
    }
}
