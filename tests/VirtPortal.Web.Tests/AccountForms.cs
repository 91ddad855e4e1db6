using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace VirtPortal.Web.Tests;

/// <summary>Drives the static sign-in form as a browser does: fetch it, keep its hidden fields, post it.</summary>
public static class AccountForms
{
    public const string LoginPath = "/Account/Login";

    /// <summary>The hidden fields of the sign-in form (antiforgery token and Blazor's form handler name).</summary>
    public static async Task<Dictionary<string, string>> GetLoginFormFieldsAsync(this HttpClient browser)
    {
        ArgumentNullException.ThrowIfNull(browser);
        using var response = await browser.GetAsync(new Uri(LoginPath, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        var document = await new HtmlParser().ParseDocumentAsync(await response.Content.ReadAsStringAsync());
        var form = document.QuerySelector("[data-testid=login-form]")
            ?? throw new InvalidOperationException("The sign-in page has no login form.");
        return form.QuerySelectorAll("input[type=hidden]")
            .Where(i => i.GetAttribute("name") is { Length: > 0 })
            .ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value") ?? "");
    }

    /// <summary>Posts the sign-in form with the page's antiforgery token (or without it).</summary>
    public static async Task<HttpResponseMessage> PostLoginAsync(this HttpClient browser, string email, string password, bool withAntiforgeryToken = true)
    {
        var fields = await browser.GetLoginFormFieldsAsync();
        if (!withAntiforgeryToken)
            fields.Remove("__RequestVerificationToken");
        else if (!fields.ContainsKey("__RequestVerificationToken"))
            throw new InvalidOperationException("The sign-in form has no antiforgery token.");
        fields["_handler"] = fields.GetValueOrDefault("_handler") ?? "login";
        fields["Input.Email"] = email;
        fields["Input.Password"] = password;
        using var content = new FormUrlEncodedContent(fields);
        return await browser.PostAsync(new Uri(LoginPath, UriKind.Relative), content);
    }

    /// <summary>The response body as an HTML document, to select by data-testid.</summary>
    public static async Task<IDocument> ReadHtmlAsync(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return await new HtmlParser().ParseDocumentAsync(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Where a redirect points, as an absolute URI (the portal sends both kinds).</summary>
    public static Uri RedirectTarget(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if ((int)response.StatusCode is < 300 or >= 400)
            throw new InvalidOperationException($"Expected a redirect, got {(int)response.StatusCode}.");
        var location = response.Headers.Location ?? throw new InvalidOperationException("A redirect without a Location.");
        return location.IsAbsoluteUri ? location : new Uri(new Uri("http://localhost"), location);
    }
}
