using System.Globalization;
using System.Text.RegularExpressions;

namespace VirtPortal.Core.Databases;

/// <summary>
/// The names of databases: what a member may call one, and the names the portal gives it and its owner role
/// on the server. Every identifier the engines send is one of these, checked again and then quoted.
/// </summary>
public static partial class DatabaseNames
{
    /// <summary>Every database and role the portal makes starts with this, so the reconciler tells them from the server's own.</summary>
    public const string Prefix = "vp_";

    public const int MaxLength = 40;

    /// <summary>Why <paramref name="name"/> cannot name a database, or null when it can.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return "A database needs a name.";
        if (name.Length > MaxLength)
            return string.Create(CultureInfo.InvariantCulture, $"A database name has at most {MaxLength} characters; this one has {name.Length}.");
        if (!Plain().IsMatch(name))
            return "A database name uses only lowercase letters a–z, digits and underscores, and starts with a letter (no spaces, quotes or accents).";
        if (Reserved.Contains(name))
            return $"\"{name}\" is an SQL keyword; choose another name.";
        return null;
    }

    /// <summary>The database's name on the server: the member's name and a part of the resource's id, so two tenants' "app" never meet.</summary>
    public static string ServerName(string name, Guid resourceId)
    {
        if (Problem(name) is { } problem)
            throw new ArgumentException(problem, nameof(name));
        return $"{Prefix}{name}_{resourceId.ToString("N", CultureInfo.InvariantCulture)[^8..]}";
    }

    /// <summary>The owner role of a database the portal made.</summary>
    public static string OwnerOf(string serverName) => CheckIdentifier(serverName) + "_owner";

    /// <summary>Returns <paramref name="identifier"/> when it is one the portal makes (prefixed, plain, short enough for PostgreSQL), else throws.</summary>
    public static string CheckIdentifier(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        if (!identifier.StartsWith(Prefix, StringComparison.Ordinal) || !ServerIdentifier().IsMatch(identifier))
            throw new ArgumentException($"\"{identifier}\" is not a database or role name the portal makes.", nameof(identifier));
        return identifier;
    }

    /// <summary>A checked identifier in double quotes, for SQL text.</summary>
    public static string Quote(string identifier) => "\"" + CheckIdentifier(identifier) + "\"";

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Plain();

    // 63 bytes is PostgreSQL's identifier limit; "_owner" is added to database names, so they stay at 57.
    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex ServerIdentifier();

    // PostgreSQL's reserved key words (SQL Key Words appendix), plus the names of its own databases.
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary", "both",
        "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create", "cross",
        "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "drop", "else", "end", "except", "false", "fetch",
        "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in", "initially", "inner",
        "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime",
        "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps",
        "placing", "primary", "references", "returning", "right", "select", "session_user", "similar", "some",
        "symmetric", "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user",
        "using", "variadic", "verbose", "when", "where", "window", "with", "delete", "insert", "update", "database",
        "postgres", "template0", "template1",
    };
}
