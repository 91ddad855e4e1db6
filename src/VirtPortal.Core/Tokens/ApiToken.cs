namespace VirtPortal.Core.Tokens;

/// <summary>
/// A personal API token. The secret is shown once, when it is made, and only its SHA-256 is kept: a copy of
/// the database gives nobody a token that works.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }

    /// <summary>The user it speaks for: it never does more than they may.</summary>
    public required string UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>SHA-256 of the whole token (prefix included), lower-case hex.</summary>
    public required string SecretHash { get; set; }

    /// <summary>The token's first characters (the prefix and a few more), so its owner recognizes it in the list.</summary>
    public required string Hint { get; set; }

    /// <summary>The one tenant it may reach; null for every tenant its user may see.</summary>
    public Guid? TenantId { get; set; }

    /// <summary>Reads only: every change is refused, whatever its user may do.</summary>
    public bool ReadOnly { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When it was last presented, to the minute (<see cref="ApiTokenService.LastUsedResolution"/>).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// What a token lets its user do, carried by the <see cref="Users.Actor"/> it authenticates: the access table
/// decides as for the user, then this narrows the answer (<see cref="Access.AccessRules"/>).
/// </summary>
public sealed record TokenScope(Guid TokenId, Guid? TenantId, bool ReadOnly);
