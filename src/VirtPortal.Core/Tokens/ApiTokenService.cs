using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tokens;

/// <summary>What a user fills in to make a token: a name, an expiry, a tenant (or null for all) and whether it only reads.</summary>
public sealed record ApiTokenDraft(string Name, DateTimeOffset ExpiresAt, Guid? TenantId = null, bool ReadOnly = false);

public enum ApiTokenState
{
    Active,
    Expired,
    Revoked,
}

/// <summary>A token as its owner's list shows it: never its secret, only its first characters (<see cref="Hint"/>).</summary>
public sealed record ApiTokenView(
    Guid Id, string Name, string Hint, Guid? TenantId, string? TenantName, bool ReadOnly,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, ApiTokenState State);

/// <summary>A token just made, with its secret: the only time anyone sees it.</summary>
public sealed record CreatedApiToken(ApiTokenView Token, string Secret);

/// <summary>Why a presented token was refused, in words the caller may read (never the secret).</summary>
public enum ApiTokenRefusal
{
    Malformed,
    Unknown,
    Expired,
    Revoked,
}

/// <summary>The outcome of presenting a token: whose it is and its scope, or why it was refused.</summary>
public sealed record ApiTokenCheck(string? UserId, TokenScope? Scope, ApiTokenRefusal? Refusal)
{
    public static ApiTokenCheck Refused(ApiTokenRefusal refusal) => new(null, null, refusal);
}

/// <summary>
/// Personal API tokens: made (shown once), listed (with when each was last used) and revoked by their
/// owners, and checked on every call that presents one. A token is stored as the SHA-256 of its secret;
/// the secret is <see cref="Prefix"/> and 32 random bytes, so a leaked token is easy to recognize (for
/// secret scanners too) and a hash cannot be guessed back. Every make and revoke is audited.
/// </summary>
public sealed partial class ApiTokenService(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, IOptions<ApiTokenOptions> options,
    ILogger<ApiTokenService> logger)
{
    /// <summary>What every VirtPortal token starts with.</summary>
    public const string Prefix = "vpt_";

    public const int NameMaxLength = 100;

    /// <summary>How stale <see cref="ApiToken.LastUsedAt"/> may be: a busy script writes it once a minute, not per call.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private const int SecretBytes = 32;
    private const int HintLength = 8;

    /// <summary>The actor's own tokens, newest first.</summary>
    [Requires(Permission.SignedIn)]
    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "list API tokens", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == actor.UserId).OrderByDescending(t => t.Id).ToListAsync(ct);
        var tenantIds = tokens.Where(t => t.TenantId is not null).Select(t => t.TenantId!.Value).Distinct().ToList();
        var names = await db.Tenants.AsNoTracking().Where(t => tenantIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        var now = time.GetUtcNow();
        return [.. tokens.Select(t => View(t, t.TenantId is { } id ? names.GetValueOrDefault(id) : null, now))];
    }

    /// <summary>
    /// Makes a token for the actor. The tenant must be one the actor may see; a token that makes a token
    /// gives it no more than it has itself (its tenant, and no later expiry).
    /// </summary>
    [Requires(Permission.ApiTokensManage)]
    public async Task<CreatedApiToken> CreateAsync(Actor actor, ApiTokenDraft draft, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(draft);
        await access.RequireAsync(actor, Permission.ApiTokensManage, AccessTarget.Portal, "create an API token", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var name = (draft.Name ?? "").Trim();
        var errors = new Dictionary<string, string[]>();
        if (name.Length == 0)
            errors[nameof(ApiTokenDraft.Name)] = ["Enter a name that says what the token is for."];
        else if (name.Length > NameMaxLength)
            errors[nameof(ApiTokenDraft.Name)] = [$"A name has at most {NameMaxLength} characters."];

        var max = options.Value.MaxTokenLifetime;
        var creator = actor.Token is { } own ? await db.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == own.TokenId, ct) : null;
        if (draft.ExpiresAt <= now)
            errors[nameof(ApiTokenDraft.ExpiresAt)] = ["Choose an expiry in the future."];
        else if (draft.ExpiresAt > now + max)
            errors[nameof(ApiTokenDraft.ExpiresAt)] = [$"A token lives at most {Days(max)} days."];
        else if (creator is not null && draft.ExpiresAt > creator.ExpiresAt)
            errors[nameof(ApiTokenDraft.ExpiresAt)] = ["A token cannot outlive the token that makes it."];

        string? tenantName = null;
        if (actor.Token?.TenantId is { } scoped && draft.TenantId != scoped)
            errors[nameof(ApiTokenDraft.TenantId)] = ["This token reaches one tenant only: it makes tokens for that tenant alone."];
        else if (draft.TenantId is { } tenantId)
        {
            tenantName = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId).Select(t => t.Name).FirstOrDefaultAsync(ct);
            if (tenantName is null || !await access.AllowsAsync(actor, Permission.TenantView, AccessTarget.Tenant(tenantId), ct))
                errors[nameof(ApiTokenDraft.TenantId)] = ["Choose a tenant you may see."];
        }

        if (errors.Count > 0)
            throw new PortalValidationException(errors);

        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7(now),
            UserId = actor.UserId,
            Name = name,
            SecretHash = Hash(secret),
            Hint = secret[..HintLength],
            TenantId = draft.TenantId,
            ReadOnly = draft.ReadOnly,
            CreatedAt = now,
            ExpiresAt = draft.ExpiresAt,
        };
        db.ApiTokens.Add(token);
        db.Record(time, actor, AuditActions.TokenCreated, Target(token), null, Describe(token, tenantName));
        await db.SaveChangesAsync(ct);
        LogCreated(token.Id, actor.Name, token.ReadOnly, token.TenantId);
        return new CreatedApiToken(View(token, tenantName, now), secret);
    }

    /// <summary>Revokes one of the actor's tokens at once; another user's token is unknown to them. Revoking twice changes nothing.</summary>
    [Requires(Permission.ApiTokensManage)]
    public async Task RevokeAsync(Actor actor, Guid tokenId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.ApiTokensManage, AccessTarget.Portal, "revoke an API token", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == actor.UserId, ct)
            ?? throw new PortalNotFoundException("This token does not exist.");
        if (token.RevokedAt is not null)
            return;
        token.RevokedAt = time.GetUtcNow();
        db.Record(time, actor, AuditActions.TokenRevoked, Target(token));
        await db.SaveChangesAsync(ct);
        LogRevoked(token.Id, actor.Name);
    }

    /// <summary>
    /// Checks a presented token: whose it is and its scope, or why it is refused. Records when it was used
    /// (to <see cref="LastUsedResolution"/>). Whether its user may still act (locked, deleted) is the caller's
    /// to check, on every call, with the user store.
    /// </summary>
    public async Task<ApiTokenCheck> CheckAsync(string presented, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(presented);
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length != Prefix.Length + Base64UrlLength)
            return ApiTokenCheck.Refused(ApiTokenRefusal.Malformed);
        var hash = Hash(presented);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.SecretHash == hash, ct);
        var now = time.GetUtcNow();
        if (token is null)
            return ApiTokenCheck.Refused(ApiTokenRefusal.Unknown);
        if (token.RevokedAt is not null)
            return ApiTokenCheck.Refused(ApiTokenRefusal.Revoked);
        if (token.ExpiresAt <= now)
            return ApiTokenCheck.Refused(ApiTokenRefusal.Expired);
        if (token.LastUsedAt is not { } last || now - last >= LastUsedResolution)
            await db.ApiTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct);
        return new ApiTokenCheck(token.UserId, new TokenScope(token.Id, token.TenantId, token.ReadOnly), null);
    }

    /// <summary>Whether the token may still be used (not revoked, not expired): for sessions opened with it, such as live connections.</summary>
    public async Task<bool> IsActiveAsync(Guid tokenId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        return await db.ApiTokens.AsNoTracking().AnyAsync(t => t.Id == tokenId && t.RevokedAt == null && t.ExpiresAt > now, ct);
    }

    /// <summary>The lower-case hex SHA-256 of a token, as it is stored.</summary>
    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token ?? throw new ArgumentNullException(nameof(token)))));

    private static readonly int Base64UrlLength = Base64Url(new byte[SecretBytes]).Length;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ApiTokenView View(ApiToken token, string? tenantName, DateTimeOffset now) => new(
        token.Id, token.Name, token.Hint + "…", token.TenantId, tenantName, token.ReadOnly, token.CreatedAt, token.ExpiresAt, token.LastUsedAt, token.RevokedAt,
        token.RevokedAt is not null ? ApiTokenState.Revoked : token.ExpiresAt <= now ? ApiTokenState.Expired : ApiTokenState.Active);

    private static string Target(ApiToken token) => $"API token {token.Name} ({token.Hint}…)";

    private static string Describe(ApiToken token, string? tenantName) =>
        $"{(token.ReadOnly ? "read-only" : "read-write")}, {(tenantName is null ? "every tenant" : "tenant " + tenantName)}, expires {token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";

    private static string Days(TimeSpan span) => Math.Floor(span.TotalDays).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(LogLevel.Information, "API token {TokenId} created by {Actor} (read-only {ReadOnly}, tenant {TenantId})")]
    private partial void LogCreated(Guid tokenId, string actor, bool readOnly, Guid? tenantId);

    [LoggerMessage(LogLevel.Information, "API token {TokenId} revoked by {Actor}")]
    private partial void LogRevoked(Guid tokenId, string actor);
}
