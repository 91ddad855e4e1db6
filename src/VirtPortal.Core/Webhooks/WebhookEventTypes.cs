using System.Text.RegularExpressions;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// The event types and the patterns subscriptions choose them with. A type is <c>{kind}.{what}</c>: the kind is
/// <c>request</c>, <c>resource</c> (a VM), <c>database</c>, <c>host</c> or <c>database_server</c>; what happened is
/// <c>created</c>, the new state in snake case (<c>pending_approval</c>, <c>running</c>, <c>deleted</c>…),
/// <c>observed</c> (what its host reports changed), <c>updated</c> (anything else that bumps its version) or
/// <c>removed</c>. A pattern is a type, or has <c>*</c> for one part (<c>resource.*</c>, <c>*.failed</c>); <c>*</c>
/// alone takes everything.
/// </summary>
public static partial class WebhookEventTypes
{
    public const string Test = "webhook.test";

    public const int MaxPatterns = 20;

    public static readonly IReadOnlyList<string> Kinds = ["request", "resource", "database", "host", "database_server"];

    /// <summary>The kinds a tenant's subscription can get: hosts and database servers are the portal's.</summary>
    public static readonly IReadOnlyList<string> TenantKinds = ["request", "resource", "database"];

    /// <summary>"PendingApproval" → "pending_approval".</summary>
    public static string Snake(string words) => SnakeBoundary().Replace(words, "$1_$2").ToLowerInvariant();

    /// <summary>Whether <paramref name="type"/> is chosen by one of the patterns.</summary>
    public static bool Matches(IEnumerable<string> patterns, string type)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        ArgumentNullException.ThrowIfNull(type);
        var parts = type.Split('.');
        foreach (var pattern in patterns)
        {
            if (pattern == "*")
                return true;
            var wanted = pattern.Split('.');
            if (wanted.Length == parts.Length && wanted.Zip(parts).All(p => p.First == "*" || p.First == p.Second))
                return true;
        }

        return false;
    }

    /// <summary>The patterns as stored (comma-separated) read back.</summary>
    public static IReadOnlyList<string> Parse(string stored) =>
        [.. (stored ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>Why a pattern is refused, or null when it is one: its kind must be known, each part a word or <c>*</c>.</summary>
    public static string? Problem(string pattern, bool portalWide)
    {
        if (pattern == "*")
            return null;
        var parts = pattern.Split('.');
        if (parts.Length != 2 || parts.Any(p => p != "*" && !Word().IsMatch(p)))
            return $"\"{pattern}\" is not an event type: use kind.what, with * for either part (resource.*, *.failed).";
        var kinds = portalWide ? Kinds : TenantKinds;
        if (parts[0] != "*" && !kinds.Contains(parts[0]))
            return $"\"{parts[0]}\" is not an event kind{(portalWide ? "" : " of a tenant")}: use {string.Join(", ", kinds)}.";
        return null;
    }

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex SnakeBoundary();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,39}$")]
    private static partial Regex Word();
}
