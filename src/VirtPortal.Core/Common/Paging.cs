namespace VirtPortal.Core.Common;

/// <summary>
/// Which part of a list to read: at most <see cref="Limit"/> items, in the list's one stable order (newest
/// first by id: ids are version-7 GUIDs, so by creation), starting after the item <see cref="After"/> names.
/// </summary>
public sealed record PageRequest(Guid? After = null, int Limit = PageRequest.DefaultLimit)
{
    public const int DefaultLimit = 50;

    public const int MaxLimit = 200;

    /// <summary>The first page.</summary>
    public static PageRequest First { get; } = new();

    /// <summary>The limit as asked, checked: 1 to <see cref="MaxLimit"/>.</summary>
    public int Checked => Limit is >= 1 and <= MaxLimit
        ? Limit
        : throw new PortalValidationException("limit", $"The limit is between 1 and {MaxLimit}.");
}

/// <summary>One page of a list, and the id to continue after (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, Guid? Next);

/// <summary>Cuts pages out of lists, in the one order every list is paged in.</summary>
public static class Paging
{
    /// <summary>
    /// The page out of <paramref name="rows"/>, read in the list's order with one row more than the limit:
    /// that extra row only says whether a next page exists.
    /// </summary>
    public static Page<T> Of<T>(IReadOnlyList<T> rows, PageRequest page, Func<T, Guid> id)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(id);
        var limit = page.Checked;
        return rows.Count > limit ? new Page<T>([.. rows.Take(limit)], id(rows[limit - 1])) : new Page<T>(rows, null);
    }

    /// <summary>A page of a short list that is read whole (the catalog, an inbox), in the same order as those read page by page.</summary>
    public static Page<T> Within<T>(IEnumerable<T> all, PageRequest page, Func<T, Guid> id)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(page);
        var ordered = all.OrderByDescending(id);
        var rest = page.After is { } after ? ordered.Where(item => id(item).CompareTo(after) < 0) : ordered;
        return Of([.. rest.Take(page.Checked + 1)], page, id);
    }
}
