using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace VirtPortal.Web.Api;

/// <summary>
/// Optimistic concurrency from the entity's version: reads send <c>ETag: "version"</c>, changes take
/// <c>If-Match</c> and are refused with 412 when the entity moved on (checked by Core in the change's own
/// transaction).
/// </summary>
public static class ApiVersions
{
    /// <summary>The version a change must find, from <c>If-Match</c>: null without the header or with <c>*</c>; -1 (matches nothing) when it names no version of ours.</summary>
    public static long? Expected(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.IfMatch.ToString();
        if (header.Length == 0)
            return null;
        if (!EntityTagHeaderValue.TryParseList([header], out var tags) || tags.Count == 0)
            return -1;
        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any)))
            return null;
        var tag = tags[0].Tag.AsSpan().Trim('"');
        return long.TryParse(tag, out var version) ? version : -1;
    }

    /// <summary>Sends the entity's version as its ETag.</summary>
    public static void Tag(HttpResponse response, long version)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.ETag = $"\"{version}\"";
    }

    /// <summary>200 with <paramref name="item"/>, its version as the ETag.</summary>
    public static Ok<T> Tagged<T>(HttpResponse response, T item, Func<T, long> version)
    {
        ArgumentNullException.ThrowIfNull(version);
        Tag(response, version(item));
        return TypedResults.Ok(item);
    }

    /// <summary>201 with <paramref name="item"/> at <paramref name="location"/>, its version as the ETag.</summary>
    public static Created<T> Created<T>(HttpResponse response, string location, T item, Func<T, long> version)
    {
        ArgumentNullException.ThrowIfNull(version);
        Tag(response, version(item));
        return TypedResults.Created(location, item);
    }
}
