namespace VirtPortal.BenchKit;

/// <summary>
/// The part of docs/PERFORMANCE.md a bench owns: the lines between <c>&lt;!-- name --&gt;</c> and
/// <c>&lt;!-- /name --&gt;</c>. A run rewrites only that block, so the section's own text stays.
/// </summary>
public static class DocumentBlock
{
    /// <summary>
    /// Replaces the block named <paramref name="name"/> in <paramref name="path"/> with <paramref name="block"/>.
    /// When the document has no such block yet, it goes in as a new section headed <paramref name="heading"/>:
    /// just before the line <paramref name="beforeHeading"/> when given and present, else at the end.
    /// </summary>
    public static void Rewrite(string path, string name, string block, string heading, string? beforeHeading = null)
    {
        ArgumentNullException.ThrowIfNull(block);
        var begin = $"<!-- {name} -->";
        var end = $"<!-- /{name} -->";
        var doc = File.ReadAllText(path).ReplaceLineEndings("\n");
        var wrapped = $"{begin}\n{block.TrimEnd()}\n{end}";
        var start = doc.IndexOf(begin, StringComparison.Ordinal);
        if (start >= 0)
        {
            var stop = doc.IndexOf(end, start, StringComparison.Ordinal);
            if (stop < 0)
                throw new InvalidOperationException($"{path} has {begin} without {end}.");
            doc = doc[..start] + wrapped + doc[(stop + end.Length)..];
        }
        else
        {
            var section = $"{heading}\n\n{wrapped}\n\n";
            var at = beforeHeading is null ? -1 : doc.IndexOf("\n" + beforeHeading, StringComparison.Ordinal);
            doc = at >= 0 ? doc[..(at + 1)] + section + doc[(at + 1)..] : doc.TrimEnd() + "\n\n" + section;
        }

        File.WriteAllText(path, doc.TrimEnd() + "\n");
    }
}
