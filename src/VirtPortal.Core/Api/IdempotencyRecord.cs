namespace VirtPortal.Core.Api;

/// <summary>
/// A POST made with an <c>Idempotency-Key</c>: who sent it, the hash of what was sent, and once it has run the
/// answer it got, so a repeat of it is answered the same without running again. Kept <see cref="IdempotencyStore.Lifetime"/>.
/// </summary>
public sealed class IdempotencyRecord
{
    public long Id { get; set; }

    /// <summary>The user the key belongs to: keys of different users never meet.</summary>
    public required string OwnerId { get; set; }

    public required string Key { get; set; }

    /// <summary>SHA-256 (hex) of the method, path and body: the same key with another request is refused.</summary>
    public required string RequestHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Null while the first request runs.</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    public int StatusCode { get; set; }

    public string? ContentType { get; set; }

    public string? Location { get; set; }

    public string? ETag { get; set; }

    public byte[]? Body { get; set; }
}
