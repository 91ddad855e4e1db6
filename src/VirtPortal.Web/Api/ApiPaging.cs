using System.ComponentModel;
using VirtPortal.Core.Common;

namespace VirtPortal.Web.Api;

/// <summary>One page of a list: its items and the cursor of the next page (null on the last).</summary>
public sealed record ApiPage<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// The query of every list: <c>cursor</c> (from the previous page's <c>nextCursor</c>) and <c>limit</c>
/// (1–200, default 50). Lists are newest first, by id; the cursor is opaque.
/// </summary>
public sealed record PageQuery(
    [property: Description("The previous page's nextCursor; leave it out for the first page.")] string? Cursor = null,
    [property: Description("How many items at most, 1 to 200 (50 when left out).")] int? Limit = null)
{
    /// <summary>The page the query asks for; a cursor this API did not give is refused on its field.</summary>
    public PageRequest ToRequest()
    {
        Guid? after = null;
        if (Cursor is { Length: > 0 } cursor)
        {
            try
            {
                var bytes = Convert.FromBase64String(cursor.Replace('-', '+').Replace('_', '/') + new string('=', (4 - cursor.Length % 4) % 4));
                after = bytes.Length == 16 ? new Guid(bytes, bigEndian: true) : throw new FormatException();
            }
            catch (FormatException)
            {
                throw new PortalValidationException("cursor", "Use the nextCursor of the previous page.");
            }
        }

        return new PageRequest(after, Limit ?? PageRequest.DefaultLimit);
    }

    /// <summary>The page asked for in a list whose ids are numbers (the audit log, drift), newest first too: the id to continue after, and the checked limit.</summary>
    public (long? After, int Limit) ToNumberedRequest()
    {
        long? after = null;
        if (Cursor is { Length: > 0 } cursor)
        {
            try
            {
                var bytes = Convert.FromBase64String(cursor.Replace('-', '+').Replace('_', '/') + new string('=', (4 - cursor.Length % 4) % 4));
                after = bytes.Length == 8 ? System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes) : throw new FormatException();
            }
            catch (FormatException)
            {
                throw new PortalValidationException("cursor", "Use the nextCursor of the previous page.");
            }
        }

        return (after, new PageRequest(null, Limit ?? PageRequest.DefaultLimit).Checked);
    }

    /// <summary>A page of a numbered list, continuing after <paramref name="next"/> (null on the last page).</summary>
    public static ApiPage<T> Answer<T>(IReadOnlyList<T> items, long? next)
    {
        var bytes = new byte[8];
        if (next is { } id)
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, id);
        return new ApiPage<T>(items, next is null ? null : Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_'));
    }

    public static ApiPage<T> Answer<T>(Page<T> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return new ApiPage<T>(page.Items, page.Next is { } next ? Encode(next) : null);
    }

    private static string Encode(Guid id) => Convert.ToBase64String(id.ToByteArray(bigEndian: true)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
