using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Api;

/// <summary>What a repeated key finds: nothing yet (run it), the first answer (send it again), another request, or the first still running.</summary>
public enum IdempotencyOutcome
{
    Started,
    Replay,
    Mismatch,
    InProgress,
}

/// <summary>The answer to a started key: <see cref="Record"/> is the first answer when it is replayed.</summary>
public sealed record IdempotencyClaim(IdempotencyOutcome Outcome, IdempotencyRecord Record);

/// <summary>The answer a request got, to keep for its repeats.</summary>
public sealed record IdempotentResponse(int StatusCode, string? ContentType, string? Location, string? ETag, byte[] Body);

/// <summary>
/// The durable side of <c>Idempotency-Key</c>: one row per owner and key (a unique index), so that of two
/// portals (or two requests racing past an in-process gate) only one runs the request. A row is claimed before
/// the request runs, completed with its answer, or dropped when the request failed on the server's side (so the
/// client may try again). Keys are kept <see cref="Lifetime"/>; an older key is as good as new.
/// </summary>
public sealed class IdempotencyStore(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public const int KeyMaxLength = 255;

    public async Task<IdempotencyClaim> ClaimAsync(string ownerId, string key, string requestHash, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ownerId);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(requestHash);
        var now = time.GetUtcNow();
        for (var attempt = 0; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var existing = await db.IdempotencyRecords.FirstOrDefaultAsync(r => r.OwnerId == ownerId && r.Key == key, ct);
            if (existing is not null && existing.CreatedAt > now - Lifetime)
            {
                var outcome = existing.RequestHash != requestHash ? IdempotencyOutcome.Mismatch
                    : existing.CompletedAt is null ? IdempotencyOutcome.InProgress
                    : IdempotencyOutcome.Replay;
                return new IdempotencyClaim(outcome, existing);
            }

            if (existing is not null)
                db.IdempotencyRecords.Remove(existing);
            var record = new IdempotencyRecord { OwnerId = ownerId, Key = key, RequestHash = requestHash, CreatedAt = now };
            db.IdempotencyRecords.Add(record);
            try
            {
                await db.SaveChangesAsync(ct);
                return new IdempotencyClaim(IdempotencyOutcome.Started, record);
            }
            catch (DbUpdateException e) when (UniqueKeys.IsUniqueViolation(e) && attempt == 0)
            {
                // Another request claimed the key between the read and the write: read what it left.
            }
        }
    }

    public async Task CompleteAsync(long recordId, IdempotentResponse response, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        await db.IdempotencyRecords.Where(r => r.Id == recordId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.CompletedAt, now)
            .SetProperty(r => r.StatusCode, response.StatusCode)
            .SetProperty(r => r.ContentType, response.ContentType)
            .SetProperty(r => r.Location, response.Location)
            .SetProperty(r => r.ETag, response.ETag)
            .SetProperty(r => r.Body, response.Body), ct);
    }

    /// <summary>Forgets a claim whose request failed on the server's side, so that a repeat runs it again.</summary>
    public async Task ReleaseAsync(long recordId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.IdempotencyRecords.Where(r => r.Id == recordId && r.CompletedAt == null).ExecuteDeleteAsync(ct);
    }

    /// <summary>Deletes the keys older than <see cref="Lifetime"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken ct = default)
    {
        var before = time.GetUtcNow() - Lifetime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.IdempotencyRecords.Where(r => r.CreatedAt <= before).ExecuteDeleteAsync(ct);
    }
}
