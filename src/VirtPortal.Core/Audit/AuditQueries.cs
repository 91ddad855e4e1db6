using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Audit;

/// <summary>
/// What to search the audit log for. <see cref="Actor"/> matches part of the actor's name, ignoring
/// case; <see cref="Action"/> is an exact action name; <see cref="From"/> is inclusive and
/// <see cref="To"/> exclusive. Null means "any".
/// </summary>
public sealed record AuditFilter(
    Guid? TenantId = null, string? Actor = null, string? Action = null, DateTimeOffset? From = null, DateTimeOffset? To = null,
    int Skip = 0, int Take = 50);

/// <summary>One page of entries, newest first, and how many match in all.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, int Total);

/// <summary>A tenant whose audit entries the actor may read.</summary>
public sealed record AuditTenant(Guid Id, string Name);

/// <summary>
/// Reads the audit log. Admins and helpdesk read all of it; owners of active tenants read the entries
/// of those tenants; everyone else is refused and the refusal is audited. The limit is applied in the
/// query itself, so no page or endpoint can forget it.
/// </summary>
public sealed partial class AuditQueries(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, ILogger<AuditQueries> logger)
{
    public const int MaxTake = 200;

    private const string LikeEscape = "\\";

    /// <summary>Whether the actor reads every entry, whatever tenants they own.</summary>
    public static bool SeesAll(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return actor.IsAdmin || actor.IsHelpdesk;
    }

    /// <summary>Whether the actor may open the audit log at all (for the nav menu; nothing is audited).</summary>
    public async Task<bool> CanSearchAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (SeesAll(actor))
            return true;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (await OwnedTenantIdsAsync(db, actor, ct)).Count > 0;
    }

    /// <summary>The tenants the actor may filter by, by name; refuses (and audits) an actor who may not search.</summary>
    public async Task<IReadOnlyList<AuditTenant>> ListTenantsAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Tenants.AsNoTracking();
        if (!SeesAll(actor))
        {
            var owned = await OwnedTenantIdsAsync(db, actor, ct);
            if (owned.Count == 0)
                await DenyAsync(db, actor, null, "view audit log", ct);
            query = query.Where(t => owned.Contains(t.Id));
        }

        return await query.OrderBy(t => t.Name).Select(t => new AuditTenant(t.Id, t.Name)).ToListAsync(ct);
    }

    public async Task<AuditPage> SearchAsync(Actor actor, AuditFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Take is < 1 or > MaxTake)
            throw new PortalValidationException(nameof(filter.Take), $"A page holds 1 to {MaxTake} entries.");
        if (filter.Skip < 0)
            throw new PortalValidationException(nameof(filter.Skip), "Skip cannot be negative.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.AuditEntries.AsNoTracking();
        if (!SeesAll(actor))
        {
            var owned = await OwnedTenantIdsAsync(db, actor, ct);
            // Asking for a tenant one does not own is refused outright rather than answered with an
            // empty page, so that it shows up in the log as the probe it is.
            if (owned.Count == 0 || (filter.TenantId is { } asked && !owned.Contains(asked)))
                await DenyAsync(db, actor, filter.TenantId, "view audit log", ct);
            var visible = owned.Select(id => (Guid?)id).ToList();
            query = query.Where(e => visible.Contains(e.TenantId));
        }

        if (filter.TenantId is { } tenantId)
            query = query.Where(e => e.TenantId == tenantId);
        if (!string.IsNullOrWhiteSpace(filter.Actor))
        {
            // LIKE ignores ASCII case in SQLite; the user's text is matched literally, wildcards included.
            var pattern = $"%{EscapeLike(filter.Actor.Trim())}%";
            query = query.Where(e => EF.Functions.Like(e.ActorName, pattern, LikeEscape));
        }
        if (!string.IsNullOrWhiteSpace(filter.Action))
            query = query.Where(e => e.Action == filter.Action);
        if (filter.From is { } from)
            query = query.Where(e => e.At >= from);
        if (filter.To is { } to)
            query = query.Where(e => e.At < to);

        var total = await query.CountAsync(ct);
        var entries = await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(filter.Skip).Take(filter.Take).ToListAsync(ct);
        return new AuditPage(entries, total);
    }

    /// <summary>The action names present in the log, for the action filter.</summary>
    public async Task<IReadOnlyList<string>> ListActionsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.AuditEntries.AsNoTracking().Select(e => e.Action).Distinct().OrderBy(a => a).ToListAsync(ct);
    }

    // Owners of archived tenants no longer see them (TenantAccess), so neither do they see their history.
    private static async Task<List<Guid>> OwnedTenantIdsAsync(PortalDbContext db, Actor actor, CancellationToken ct) =>
        await db.TenantMemberships.AsNoTracking()
            .Where(m => m.UserId == actor.UserId && m.Role == TenantRole.Owner && m.Tenant!.ArchivedAt == null)
            .Select(m => m.TenantId)
            .ToListAsync(ct);

    private static string EscapeLike(string text) =>
        text.Replace(LikeEscape, LikeEscape + LikeEscape, StringComparison.Ordinal)
            .Replace("%", LikeEscape + "%", StringComparison.Ordinal)
            .Replace("_", LikeEscape + "_", StringComparison.Ordinal);

    private async Task DenyAsync(PortalDbContext db, Actor actor, Guid? tenantId, string what, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.Record(time, actor, AuditActions.AccessDenied, tenantId is null ? "audit log" : $"audit log of tenant {tenantId}", null, what);
        await db.SaveChangesAsync(ct);
        LogDenied(actor.Name, tenantId);
        throw new PortalAccessDeniedException();
    }

    [LoggerMessage(LogLevel.Warning, "Denied {Actor}: view audit log (tenant {TenantId})")]
    private partial void LogDenied(string actor, Guid? tenantId);
}
