using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Access;

/// <summary>
/// What a decision needs to know about its target, loaded by <see cref="PortalAccess"/>. For the portal
/// target every tenant fact is empty, so the rules below reduce to the actor's global roles.
/// </summary>
public sealed record AccessFacts
{
    /// <summary>False when the target does not exist: refused like a forbidden one.</summary>
    public bool Exists { get; init; } = true;

    /// <summary>The tenant the target belongs to; null for the portal.</summary>
    public Guid? TenantId { get; init; }

    /// <summary>The actor's role in that tenant, or null when not a member.</summary>
    public TenantRole? Membership { get; init; }

    public bool TenantArchived { get; init; }

    /// <summary>Whether the actor owns some active tenant (for <see cref="Permission.AuditOpen"/>).</summary>
    public bool OwnsActiveTenant { get; init; }

    /// <summary>Whether the actor has the Approver role now (the sign-in cookie may be older).</summary>
    public bool IsRoleApprover { get; init; }

    /// <summary>The request's facts, when the target is a request.</summary>
    public RequestFacts? Request { get; init; }

    public static AccessFacts Unknown { get; } = new() { Exists = false };

    /// <summary>A tenant's facts for one actor: the tenant as loaded, with the actor's membership.</summary>
    public static AccessFacts Of(Tenant tenant, string actorId)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return new AccessFacts
        {
            TenantId = tenant.Id,
            Membership = tenant.Memberships.FirstOrDefault(m => m.UserId == actorId)?.Role,
            TenantArchived = tenant.IsArchived,
        };
    }
}

/// <summary>
/// A request as deciding on it needs it: who asked, its state and stage, the approvers that stage names
/// (<see cref="Stage"/> null when the policy has no such stage) and whether the actor approved it already.
/// </summary>
public sealed record RequestFacts(string RequesterId, RequestState State, int CurrentStage, ApprovalStage? Stage, bool ApprovedThisStage)
{
    /// <summary>The request's facts for one actor, with its tenant's policy in force and the request's approvals loaded.</summary>
    public static RequestFacts Of(Request request, TenantPolicy policy, string actorId)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(policy);
        return new RequestFacts(request.RequesterId, request.State, request.CurrentStage, TenantPolicies.Stage(policy, request.CurrentStage),
            request.Approvals.Any(a => a.Stage == request.CurrentStage && a.ApproverId == actorId));
    }
}

/// <summary>Allowed, or refused with the reason the actor is told (null: the generic refusal).</summary>
public sealed record AccessDecision(bool Allowed, string? Reason = null)
{
    public static AccessDecision Allow { get; } = new(true);

    public static AccessDecision Deny { get; } = new(false);

    public static AccessDecision Because(string reason) => new(false, reason);

    public static AccessDecision When(bool allowed) => allowed ? Allow : Deny;
}

/// <summary>
/// The one table of who may do what. Pure: <see cref="PortalAccess"/> loads the facts and audits the
/// refusals; pages, the API, the hub and the console all ask through it. In words:
/// <list type="bullet">
/// <item>Admins may do everything except request for a tenant (requests come from its members).</item>
/// <item>Approvers and helpdesk see every tenant, resource and request, read-only; approvers also decide
/// the requests their approval stages name them for; helpdesk reads the whole audit log.</item>
/// <item>Members of an active tenant see it, request for it and operate its resources; owners also manage
/// its members, cancel its members' requests, read its audit entries and manage its webhooks.</item>
/// <item>An archived tenant leaves every member's view; unknown targets are refused like forbidden ones.</item>
/// <item>An API token never does more than its user: the table decides as for the user, then the token's
/// scope narrows the answer (<see cref="Narrow"/>).</item>
/// </list>
/// </summary>
public static class AccessRules
{
    /// <summary>What a read-only token is told when it asks for a change its user could make.</summary>
    public const string ReadOnlyTokenReason = "This API token is read-only.";

    public static bool Allows(Actor actor, Permission permission, AccessFacts facts) => Decide(actor, permission, facts).Allowed;

    public static AccessDecision Decide(Actor actor, Permission permission, AccessFacts facts)
    {
        var decision = DecideForUser(actor, permission, facts);
        return decision.Allowed && actor.Token is { } token ? Narrow(token, permission, facts) : decision;
    }

    /// <summary>
    /// Whether the permission changes something (true) or only reads (false). Deciding is a change, also on the
    /// portal (approving in bulk); the approval inbox asks as <see cref="Actor.ForReading"/>. The portal-wide
    /// "manage" permissions list and change alike, so they count as changes: a read-only token does without them.
    /// </summary>
    public static bool Changes(Permission permission, AccessFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return permission switch
        {
            Permission.SignedIn or Permission.TenantView or Permission.ResourceView or Permission.ResourceConsoleViewOnly
                or Permission.RequestView or Permission.AuditOpen or Permission.AuditRead
                or Permission.CatalogReadEnabled or Permission.CatalogReadAll or Permission.WebhooksView => false,
            Permission.RequestDecide or Permission.TenantRequest or Permission.TenantManageMembers or Permission.TenantAdminister
                or Permission.ResourceOperate or Permission.ResourceConsole or Permission.RequestCancel
                or Permission.CatalogEdit or Permission.HostsManage or Permission.DatabaseServersManage
                or Permission.DriftManage or Permission.UsersManage or Permission.ApiTokensManage or Permission.WebhooksManage => true,
            _ => throw new ArgumentOutOfRangeException(nameof(permission), permission, "Say whether this permission changes anything."),
        };
    }

    /// <summary>
    /// Whether a permission on the portal target concerns no tenant's things, so that a token limited to one
    /// tenant keeps it: the user's own things, the enabled catalog, and opening the approval inbox and the audit
    /// log (whose entries are then checked one tenant at a time). Everything else on the portal reaches every tenant.
    /// </summary>
    public static bool ReachesNoTenant(Permission permission) => permission is Permission.SignedIn or Permission.ApiTokensManage
        or Permission.CatalogReadEnabled or Permission.RequestDecide or Permission.AuditOpen;

    /// <summary>
    /// A token's scope narrowing what its user is allowed: a token limited to one tenant is refused every other
    /// tenant (as if it did not exist) and the portal-wide reach of staff; a read-only token every change.
    /// </summary>
    public static AccessDecision Narrow(TokenScope token, Permission permission, AccessFacts facts)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(facts);
        if (token.TenantId is { } scoped && (facts.TenantId is { } tenant ? tenant != scoped : !ReachesNoTenant(permission)))
            return AccessDecision.Deny;
        if (token.ReadOnly && Changes(permission, facts))
            return AccessDecision.Because(ReadOnlyTokenReason);
        return AccessDecision.Allow;
    }

    private static AccessDecision DecideForUser(Actor actor, Permission permission, AccessFacts facts)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(facts);
        if (!facts.Exists)
            return AccessDecision.Deny;
        var member = facts.Membership is not null && !facts.TenantArchived;
        var owner = facts.Membership == TenantRole.Owner && !facts.TenantArchived;
        var views = actor.IsStaff || member;
        return permission switch
        {
            Permission.SignedIn => AccessDecision.When(actor.UserId.Length > 0),

            Permission.TenantView => AccessDecision.When(views),
            Permission.TenantRequest => AccessDecision.When(member),
            Permission.TenantManageMembers => AccessDecision.When(actor.IsAdmin || owner),
            Permission.TenantAdminister => AccessDecision.When(actor.IsAdmin),

            Permission.ResourceView => AccessDecision.When(views),
            Permission.ResourceOperate => AccessDecision.When(actor.IsAdmin || member),
            Permission.ResourceConsole => AccessDecision.When(actor.IsAdmin || member),
            Permission.ResourceConsoleViewOnly => AccessDecision.When(views),

            Permission.RequestView => AccessDecision.When(views),
            Permission.RequestCancel => AccessDecision.When(views && (actor.IsAdmin || owner || (facts.Request is { } r && r.RequesterId == actor.UserId))),
            Permission.RequestDecide => Decide(actor, facts, views),

            Permission.AuditOpen => AccessDecision.When(actor.IsAdmin || actor.IsHelpdesk || facts.OwnsActiveTenant),
            Permission.AuditRead => AccessDecision.When(actor.IsAdmin || actor.IsHelpdesk || owner),

            Permission.CatalogReadEnabled => AccessDecision.When(actor.UserId.Length > 0),
            Permission.CatalogReadAll => AccessDecision.When(actor.IsAdmin),
            Permission.CatalogEdit => AccessDecision.When(actor.IsAdmin),

            Permission.HostsManage => AccessDecision.When(actor.IsAdmin),
            Permission.DatabaseServersManage => AccessDecision.When(actor.IsAdmin),
            Permission.DriftManage => AccessDecision.When(actor.IsAdmin),
            Permission.UsersManage => AccessDecision.When(actor.IsAdmin),
            Permission.ApiTokensManage => AccessDecision.When(actor.UserId.Length > 0),

            Permission.WebhooksView => AccessDecision.When(actor.IsAdmin || actor.IsHelpdesk || owner),
            Permission.WebhooksManage => AccessDecision.When(actor.IsAdmin || owner),
            _ => AccessDecision.Deny,
        };
    }

    /// <summary>
    /// Deciding a request: on the portal, whether the actor decides requests at all (the inbox). On a
    /// request, whether they may decide it now; the reasons are shown only to those who may see it.
    /// </summary>
    private static AccessDecision Decide(Actor actor, AccessFacts facts, bool views)
    {
        if (facts.Request is not { } request)
            return AccessDecision.When(facts.TenantId is null && (actor.IsAdmin || facts.IsRoleApprover));
        if (!views)
            return AccessDecision.Deny;
        if (request.State != RequestState.PendingApproval)
            return AccessDecision.Because($"The request is {RequestStateMachine.Describe(request.State)}.");
        if (request.RequesterId == actor.UserId)
            return AccessDecision.Because("You cannot decide your own request.");
        if (actor.IsAdmin)
            return AccessDecision.Allow;
        if (request.Stage is not { } stage)
            return AccessDecision.Because("Only an admin can decide this request.");
        var named = stage.ApproverIds.Count > 0;
        if (named ? !stage.ApproverIds.Contains(actor.UserId) : !facts.IsRoleApprover)
            return AccessDecision.Because($"You are not an approver of stage {request.CurrentStage} for this tenant.");
        if (request.ApprovedThisStage)
            return AccessDecision.Because("You already approved this stage.");
        return AccessDecision.Allow;
    }
}
