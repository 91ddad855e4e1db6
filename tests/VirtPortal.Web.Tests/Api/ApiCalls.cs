using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtPortal.Web.Tests.Api;

/// <summary>How the tests call the API: a method, a path, a JSON body and headers; the answer read as JSON.</summary>
public static class ApiCalls
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string path, object? body = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = JsonContent.Create(body, body.GetType(), options: ApiPortal.Json);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            request.Headers.TryAddWithoutValidation(name, value);
        return await client.SendAsync(request, Ct);
    }

    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string path, object? body = null, IReadOnlyDictionary<string, string>? headers = null) =>
        client.SendAsync(HttpMethod.Post, path, body, headers);

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return document.RootElement.Clone();
    }

    /// <summary>Asserts the status and returns the body as JSON, saying what came instead.</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode}: {text}");
        if (text.Length == 0)
            return default;
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>A ProblemDetails answer's detail and its messages for one field (camelCase, as the body names it).</summary>
    public static string[] FieldErrors(this JsonElement problem, string field) =>
        problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out var messages)
            ? [.. messages.EnumerateArray().Select(m => m.GetString()!)]
            : [];

    public static string Detail(this JsonElement problem) => problem.GetProperty("detail").GetString()!;

    public static Guid Id(this JsonElement item) => item.GetProperty("id").GetGuid();

    public static IReadOnlyList<JsonElement> Items(this JsonElement page) => [.. page.GetProperty("items").EnumerateArray()];

    /// <summary>Polls a GET until <paramref name="done"/> holds, as a script follows a Location; fails after <paramref name="patience"/>.</summary>
    public static async Task<JsonElement> PollAsync(this HttpClient client, string path, Func<JsonElement, bool> done, TimeSpan? patience = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(done);
        var deadline = DateTimeOffset.UtcNow + (patience ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            using var response = await client.GetAsync(path, Ct);
            var body = await response.ExpectAsync(HttpStatusCode.OK);
            if (done(body))
                return body;
            if (DateTimeOffset.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"GET {path} never got there: {body}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }
}
