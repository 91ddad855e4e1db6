using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Audit;

/// <summary>
/// What to search the audit log for. <see cref="Actor"/> matches part of the actor's name and
/// <see cref="Target"/> part of the target's words ("VM build-agent"), both ignoring case; <see cref="Action"/>
/// is an exact action name; <see cref="From"/> is inclusive and <see cref="To"/> exclusive. Null means "any".
/// </summary>
public sealed record AuditFilter(
    Guid? TenantId = null, string? Actor = null, string? Action = null, DateTimeOffset? From = null, DateTimeOffset? To = null,
    int Skip = 0, int Take = 50, string? Target = null);

/// <summary>A page of entries, newest first by id, and the id to continue after (null on the last page).</summary>
public sealed record AuditSlice(IReadOnlyList<AuditEntry> Entries, long? Next);

/// <summary>One page of entries, newest first, and how many match in all.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, int Total);

/// <summary>A tenant whose audit entries the actor may read.</summary>
public sealed record AuditTenant(Guid Id, string Name);

/// <summary>
/// Reads the audit log, within the actor's <see cref="AccessScope"/>: admins and helpdesk read all of it,
/// owners of active tenants the entries of those tenants; everyone else is refused and the refusal is
/// audited. The scope is applied in the query itself, so no page or endpoint can forget it.
/// </summary>
public sealed class AuditQueries(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access)
{
    public const int MaxTake = 200;

    private const string LikeEscape = "\\";

    /// <summary>Whether the actor may open the audit log at all (for the nav menu; nothing is audited).</summary>
    [Requires(Permission.SignedIn)]
    public Task<bool> CanSearchAsync(Actor actor, CancellationToken ct = default) =>
        access.AllowsAsync(actor, Permission.AuditOpen, AccessTarget.Portal, ct);

    /// <summary>The tenants the actor may filter by, by name; refuses (and audits) an actor who may not search.</summary>
    [Requires(Permission.AuditOpen)]
    public async Task<IReadOnlyList<AuditTenant>> ListTenantsAsync(Actor actor, CancellationToken ct = default)
    {
        var scope = await OpenAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Tenants.AsNoTracking();
        if (!scope.All)
            query = query.Where(t => scope.TenantIds.Contains(t.Id));
        return await query.OrderBy(t => t.Name).Select(t => new AuditTenant(t.Id, t.Name)).ToListAsync(ct);
    }

    /// <summary>
    /// One page of the entries the actor reads. Asking for a tenant outside one's scope is refused outright
    /// rather than answered with an empty page, so that it shows up in that tenant's log as the probe it is.
    /// </summary>
    [Requires(Permission.AuditRead, AccessTargetKind.Tenant)]
    public async Task<AuditPage> SearchAsync(Actor actor, AuditFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(filter);
        var scope = filter.TenantId is { } asked
            ? await ReadTenantAsync(actor, asked, ct)
            : await OpenAsync(actor, ct);
        if (filter.Take is < 1 or > MaxTake)
            throw new PortalValidationException(nameof(filter.Take), $"A page holds 1 to {MaxTake} entries.");
        if (filter.Skip < 0)
            throw new PortalValidationException(nameof(filter.Skip), "Skip cannot be negative.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = Filtered(Within(db, scope), filter);
        var total = await query.CountAsync(ct);
        var entries = await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(filter.Skip).Take(filter.Take).ToListAsync(ct);
        return new AuditPage(entries, total);
    }

    /// <summary>
    /// A page of the entries the actor reads for scripts: newest first by id (ids only grow, so a page never
    /// shifts under entries written meanwhile), continuing after the id <paramref name="after"/>. The filter's
    /// Skip and Take are not used; the scope and the refusals are those of <see cref="SearchAsync"/>.
    /// </summary>
    [Requires(Permission.AuditRead, AccessTargetKind.Tenant)]
    public async Task<AuditSlice> PageAsync(Actor actor, AuditFilter filter, long? after, int limit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(filter);
        var scope = filter.TenantId is { } asked
            ? await ReadTenantAsync(actor, asked, ct)
            : await OpenAsync(actor, ct);
        if (limit is < 1 or > MaxTake)
            throw new PortalValidationException("limit", $"A page holds 1 to {MaxTake} entries.");
        if (filter.From is { } from && filter.To is { } to && to <= from)
            throw new PortalValidationException(nameof(filter.To), "The end of the time range comes after its start.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = Filtered(Within(db, scope), filter);
        if (after is { } last)
            query = query.Where(e => e.Id < last);
        var rows = await query.OrderByDescending(e => e.Id).Take(limit + 1).ToListAsync(ct);
        return rows.Count > limit ? new AuditSlice([.. rows.Take(limit)], rows[limit - 1].Id) : new AuditSlice(rows, null);
    }

    /// <summary>The action names present in the entries the actor reads, for the action filter.</summary>
    [Requires(Permission.AuditOpen)]
    public async Task<IReadOnlyList<string>> ListActionsAsync(Actor actor, CancellationToken ct = default)
    {
        var scope = await OpenAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Within(db, scope).Select(e => e.Action).Distinct().OrderBy(a => a).ToListAsync(ct);
    }

    /// <summary>The newest entries the actor reads (none when they read none), for the home page.</summary>
    [Requires(Permission.SignedIn)]
    public async Task<IReadOnlyList<AuditEntry>> RecentAsync(Actor actor, int take, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(take);
        var scope = await access.AuditScopeAsync(actor, ct);
        if (scope.IsEmpty)
            return [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Within(db, scope).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(Math.Min(take, MaxTake)).ToListAsync(ct);
    }

    /// <summary>The actor's scope; refused and audited when it is empty.</summary>
    private async Task<AccessScope> OpenAsync(Actor actor, CancellationToken ct)
    {
        await access.RequireAsync(actor, Permission.AuditOpen, AccessTarget.Portal, "view audit log", ct);
        return await access.AuditScopeAsync(actor, ct);
    }

    private async Task<AccessScope> ReadTenantAsync(Actor actor, Guid tenantId, CancellationToken ct)
    {
        await access.RequireAsync(actor, Permission.AuditRead, AccessTarget.Tenant(tenantId), "view audit log", ct);
        return new AccessScope(false, [tenantId]);
    }

    private static IQueryable<AuditEntry> Within(PortalDbContext db, AccessScope scope)
    {
        var query = db.AuditEntries.AsNoTracking();
        if (scope.All)
            return query;
        var visible = scope.TenantIds.Select(id => (Guid?)id).ToList();
        return query.Where(e => visible.Contains(e.TenantId));
    }

    private static IQueryable<AuditEntry> Filtered(IQueryable<AuditEntry> query, AuditFilter filter)
    {
        if (filter.TenantId is { } tenantId)
            query = query.Where(e => e.TenantId == tenantId);
        if (!string.IsNullOrWhiteSpace(filter.Actor))
        {
            // LIKE ignores ASCII case in SQLite; the user's text is matched literally, wildcards included.
            var pattern = $"%{EscapeLike(filter.Actor.Trim())}%";
            query = query.Where(e => EF.Functions.Like(e.ActorName, pattern, LikeEscape));
        }
        if (!string.IsNullOrWhiteSpace(filter.Target))
        {
            var pattern = $"%{EscapeLike(filter.Target.Trim())}%";
            query = query.Where(e => EF.Functions.Like(e.Target, pattern, LikeEscape));
        }
        if (!string.IsNullOrWhiteSpace(filter.Action))
            query = query.Where(e => e.Action == filter.Action);
        if (filter.From is { } from)
            query = query.Where(e => e.At >= from);
        if (filter.To is { } to)
            query = query.Where(e => e.At < to);
        return query;
    }

    private static string EscapeLike(string text) =>
        text.Replace(LikeEscape, LikeEscape + LikeEscape, StringComparison.Ordinal)
            .Replace("%", LikeEscape + "%", StringComparison.Ordinal)
            .Replace("_", LikeEscape + "_", StringComparison.Ordinal);
}
