using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Access;

/// <summary>What the actor may do with one target, for a page to show only what the server would accept.</summary>
public sealed record Capabilities(AccessTarget Target, IReadOnlyDictionary<Permission, AccessDecision> Decisions)
{
    public bool Can(Permission permission) => Decisions.TryGetValue(permission, out var decision) && decision.Allowed;
}

/// <summary>Which tenants' things an actor reaches with one permission (audit entries, requests, resources): all of them, or those of <see cref="TenantIds"/>.</summary>
public sealed record AccessScope(bool All, IReadOnlyList<Guid> TenantIds)
{
    public bool IsEmpty => !All && TenantIds.Count == 0;
}

/// <summary>What a granted check found, so that the caller need not load it again.</summary>
public sealed record AccessGrant(AccessFacts Facts)
{
    public Guid? TenantId => Facts.TenantId;

    public TenantRole? Membership => Facts.Membership;
}

/// <summary>
/// The access service: every Core entry point asks it before it reads or changes anything. It loads the
/// facts a decision needs, asks <see cref="AccessRules"/>, and records each refusal in the audit log with
/// the target's tenant, so the tenant's owners see probes of it. Unknown and forbidden targets are refused
/// alike, with one exception type (<see cref="PortalAccessDeniedException"/>).
/// </summary>
public sealed partial class PortalAccess(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, ILogger<PortalAccess> logger)
{
    /// <summary>
    /// Lets the actor through, or audits the refusal and throws. <paramref name="what"/> says in the audit
    /// log what was attempted ("edit size"); by default the permission's name.
    /// </summary>
    public async Task<AccessGrant> RequireAsync(Actor actor, Permission permission, AccessTarget target, string? what = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(target);
        // Most portal-wide permissions need no fact from the database: grant those without opening it
        // (the notification bell and preferences ask on every render).
        if (NeedsNoFacts(permission, target) && AccessRules.Allows(actor, permission, new AccessFacts()))
            return new AccessGrant(new AccessFacts());
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await RequireAsync(db, actor, permission, target, what, ct);
    }

    /// <summary>
    /// As <see cref="RequireAsync(Actor, Permission, AccessTarget, string?, CancellationToken)"/>, inside the
    /// caller's context and transaction, so the decision sees what the change will. A refusal drops what the
    /// caller had pending, saves the audit entry alone and commits it (the exception would roll it back).
    /// </summary>
    public async Task<AccessGrant> RequireAsync(PortalDbContext db, Actor actor, Permission permission, AccessTarget target, string? what, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(target);
        var facts = await FactsAsync(db, actor, target, [permission], ct);
        var decision = AccessRules.Decide(actor, permission, facts);
        if (decision.Allowed)
            return new AccessGrant(facts);

        db.ChangeTracker.Clear();
        var details = what ?? Words(permission);
        if (decision.Reason is { } reason)
            details += ": " + reason;
        db.Record(time, actor, AuditActions.AccessDenied, TargetWords(permission, target), facts.TenantId, details);
        await db.SaveChangesAsync(ct);
        if (db.Database.CurrentTransaction is { } tx)
            await tx.CommitAsync(ct);
        LogDenied(actor.Name, details, target.ToString());
        throw decision.Reason is { } shown ? new PortalAccessDeniedException(shown) { Reason = shown } : new PortalAccessDeniedException();
    }

    /// <summary>Whether the actor has the permission; nothing is audited (for menus and buttons).</summary>
    public async Task<bool> AllowsAsync(Actor actor, Permission permission, AccessTarget target, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(target);
        if (NeedsNoFacts(permission, target))
            return AccessRules.Allows(actor, permission, new AccessFacts());
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return AccessRules.Allows(actor, permission, await FactsAsync(db, actor, target, [permission], ct));
    }

    /// <summary>Every permission the actor has on the target, from one load of its facts.</summary>
    public async Task<Capabilities> CapabilitiesAsync(Actor actor, AccessTarget target, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var all = Enum.GetValues<Permission>();
        var facts = await FactsAsync(db, actor, target, all, ct);
        return new Capabilities(target, all.ToDictionary(p => p, p => AccessRules.Decide(actor, p, facts)));
    }

    /// <summary>The audit entries the actor reads: the rule of <see cref="Permission.AuditRead"/>, on the portal or per tenant.</summary>
    public Task<AccessScope> AuditScopeAsync(Actor actor, CancellationToken ct = default) => ScopeAsync(actor, Permission.AuditRead, ct);

    /// <summary>
    /// The tenants whose things the actor reaches with <paramref name="permission"/>: every tenant when the table
    /// grants it on the portal, else each tenant it grants it in. The candidates are the actor's memberships, or
    /// the one tenant their API token is limited to (which staff reach without belonging to it).
    /// </summary>
    public async Task<AccessScope> ScopeAsync(Actor actor, Permission permission, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (AccessRules.Allows(actor, permission, new AccessFacts()))
            return new AccessScope(true, []);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (actor.Token?.TenantId is { } scoped)
            return new AccessScope(false, AccessRules.Allows(actor, permission, await TenantFactsAsync(db, actor, scoped, ct)) ? [scoped] : []);
        var memberships = await db.TenantMemberships.AsNoTracking().Where(m => m.UserId == actor.UserId)
            .Select(m => new { m.TenantId, m.Role, Archived = m.Tenant!.ArchivedAt != null }).ToListAsync(ct);
        return new AccessScope(false, [.. memberships
            .Where(m => AccessRules.Allows(actor, permission, new AccessFacts { TenantId = m.TenantId, Membership = m.Role, TenantArchived = m.Archived }))
            .Select(m => m.TenantId)]);
    }

    /// <summary>
    /// As <see cref="ScopeAsync(Actor, Permission, CancellationToken)"/>, or, when <paramref name="tenantId"/> is
    /// set, that tenant alone once the actor passes <see cref="RequireAsync(Actor, Permission, AccessTarget, string?, CancellationToken)"/> on it:
    /// a list of everything the actor reaches, or of one tenant's things.
    /// </summary>
    public async Task<AccessScope> ScopeAsync(Actor actor, Permission permission, Guid? tenantId, string what, CancellationToken ct = default)
    {
        if (tenantId is not { } id)
            return await ScopeAsync(actor, permission, ct);
        await RequireAsync(actor, permission, AccessTarget.Tenant(id), what, ct);
        return new AccessScope(false, [id]);
    }

    /// <summary>Whether the portal-wide facts of <see cref="FactsAsync"/> would be empty for this permission.</summary>
    private static bool NeedsNoFacts(Permission permission, AccessTarget target) =>
        target.Kind == AccessTargetKind.Portal && permission is not (Permission.AuditOpen or Permission.RequestDecide);

    private static async Task<AccessFacts> FactsAsync(PortalDbContext db, Actor actor, AccessTarget target, IReadOnlyCollection<Permission> asked, CancellationToken ct)
    {
        switch (target.Kind)
        {
            case AccessTargetKind.Portal:
                return new AccessFacts
                {
                    OwnsActiveTenant = asked.Contains(Permission.AuditOpen) && await db.TenantMemberships.AnyAsync(
                        m => m.UserId == actor.UserId && m.Role == TenantRole.Owner && m.Tenant!.ArchivedAt == null, ct),
                    IsRoleApprover = asked.Contains(Permission.RequestDecide) && await IsRoleApproverAsync(db, actor, ct),
                };
            case AccessTargetKind.Tenant:
                return await TenantFactsAsync(db, actor, target.Id, ct);
            case AccessTargetKind.Resource:
                var tenantId = await db.Resources.AsNoTracking().Where(r => r.Id == target.Id).Select(r => (Guid?)r.TenantId).FirstOrDefaultAsync(ct);
                return tenantId is { } id ? await TenantFactsAsync(db, actor, id, ct) : AccessFacts.Unknown;
            case AccessTargetKind.Request:
                var request = await db.Requests.AsNoTracking().Include(r => r.Approvals).FirstOrDefaultAsync(r => r.Id == target.Id, ct);
                if (request is null)
                    return AccessFacts.Unknown;
                var deciding = asked.Contains(Permission.RequestDecide);
                // Only deciding needs the policy's stages.
                var policy = deciding ? await TenantPolicies.LoadAsync(db, request.TenantId, ct) : TenantPolicy.Default(request.TenantId);
                return await TenantFactsAsync(db, actor, request.TenantId, ct) with
                {
                    IsRoleApprover = deciding && await IsRoleApproverAsync(db, actor, ct),
                    Request = RequestFacts.Of(request, policy, actor.UserId),
                };
            default:
                return AccessFacts.Unknown;
        }
    }

    private static async Task<AccessFacts> TenantFactsAsync(PortalDbContext db, Actor actor, Guid tenantId, CancellationToken ct)
    {
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId)
            .Select(t => new
            {
                t.ArchivedAt,
                Role = t.Memberships.Where(m => m.UserId == actor.UserId).Select(m => (TenantRole?)m.Role).FirstOrDefault(),
            })
            .FirstOrDefaultAsync(ct);
        return tenant is null ? AccessFacts.Unknown : new AccessFacts { TenantId = tenantId, Membership = tenant.Role, TenantArchived = tenant.ArchivedAt != null };
    }

    /// <summary>The Approver role as it is now, not as the actor's sign-in cookie says.</summary>
    internal static async Task<bool> IsRoleApproverAsync(PortalDbContext db, Actor actor, CancellationToken ct) =>
        actor.IsApprover || (await db.UserIdsInRoleAsync(GlobalRoles.Approver, ct)).Contains(actor.UserId);

    /// <summary>The target as the audit log names it: the area for portal-wide permissions, else the tenant, resource or request.</summary>
    private static string TargetWords(Permission permission, AccessTarget target) => (target.Kind, permission) switch
    {
        (AccessTargetKind.Portal, Permission.CatalogReadEnabled or Permission.CatalogReadAll or Permission.CatalogEdit) => "catalog",
        (AccessTargetKind.Portal, Permission.HostsManage) => "hosts",
        (AccessTargetKind.Portal, Permission.DatabaseServersManage) => "database servers",
        (AccessTargetKind.Portal, Permission.DriftManage) => "drift",
        (AccessTargetKind.Portal, Permission.UsersManage) => "users",
        (AccessTargetKind.Portal, Permission.WebhooksView or Permission.WebhooksManage) => "webhooks",
        (AccessTargetKind.Portal, Permission.AuditOpen or Permission.AuditRead) => "audit log",
        (AccessTargetKind.Portal, Permission.TenantView or Permission.TenantRequest or Permission.TenantManageMembers or Permission.TenantAdminister) => "tenants",
        (AccessTargetKind.Portal, Permission.RequestView or Permission.RequestCancel or Permission.RequestDecide) => "requests",
        (AccessTargetKind.Portal, _) => "portal",
        (AccessTargetKind.Tenant, Permission.AuditOpen or Permission.AuditRead) => $"audit log of tenant {target.Id}",
        _ => target.ToString(),
    };

    /// <summary>"TenantManageMembers" → "tenant manage members".</summary>
    private static string Words(Permission permission) =>
        string.Concat(permission.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    [LoggerMessage(LogLevel.Warning, "Denied {Actor}: {What} ({Target})")]
    private partial void LogDenied(string actor, string what, string target);
}
