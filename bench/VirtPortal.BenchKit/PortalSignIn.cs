using System.Net;
using AngleSharp.Html.Parser;

namespace VirtPortal.BenchKit;

/// <summary>Signs in through the portal's sign-in form, as a browser does; the cookies are that session.</summary>
public static class PortalSignIn
{
    /// <summary>The Identity application cookie's name (the portal's <c>ConfigureApplicationCookie</c>).</summary>
    public const string AuthCookie = "VirtPortal.Auth";

    /// <summary>
    /// GET /Account/Login, then POST its form (antiforgery fields included) with the email and password.
    /// <paramref name="handler"/> may bind sockets to a source address; its cookie container is replaced.
    /// </summary>
    public static async Task<CookieContainer> SignInAsync(Uri baseUrl, string email, string password, SocketsHttpHandler? handler = null, CancellationToken ct = default)
    {
        var cookies = new CookieContainer();
        handler ??= new SocketsHttpHandler();
        handler.CookieContainer = cookies;
        handler.AllowAutoRedirect = false;
        using var browser = new HttpClient(handler) { BaseAddress = baseUrl };
        using var page = await browser.GetAsync(new Uri("/Account/Login", UriKind.Relative), ct);
        page.EnsureSuccessStatusCode();
        var document = await new HtmlParser().ParseDocumentAsync(await page.Content.ReadAsStringAsync(ct));
        var form = document.QuerySelector("[data-testid=login-form]") ?? throw new InvalidOperationException("The sign-in page has no login form.");
        var fields = form.QuerySelectorAll("input[type=hidden]")
            .Where(i => i.GetAttribute("name") is { Length: > 0 })
            .ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value") ?? "");
        fields["_handler"] = fields.GetValueOrDefault("_handler") ?? "login";
        fields["Input.Email"] = email;
        fields["Input.Password"] = password;
        using var content = new FormUrlEncodedContent(fields);
        using var response = await browser.PostAsync(new Uri("/Account/Login", UriKind.Relative), content, ct);
        if (response.StatusCode != HttpStatusCode.Redirect || cookies.GetCookies(baseUrl)[AuthCookie] is null)
            throw new InvalidOperationException($"signing in as {email} answered {(int)response.StatusCode} without the sign-in cookie");
        return cookies;
    }
}
