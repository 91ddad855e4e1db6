using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Leases;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

/// <summary>
/// Decisions and moves: approve (stage by stage), reject, cancel, time-outs. Each call is one transaction
/// holding the state change, its timeline event, its audit entry, the notifications and what the approval
/// causes (in the features it touches: resources, leases, tenancy); live messages go out after the commit.
/// On SQLite the transaction takes the write lock at BEGIN, so racing approvals serialize and the later one
/// sees the quota the earlier one reserved; elsewhere the tenant's quota version catches the race.
/// </summary>
public sealed class RequestDecisions(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, LiveUpdates live)
{
    [Requires(Permission.RequestDecide, AccessTargetKind.Request)]
    public Task ApproveAsync(Actor actor, Guid requestId, CancellationToken ct = default) => ApproveAsync(actor, requestId, null, ct);

    /// <summary>Approves; with <paramref name="expectedVersion"/>, only while the request is still at that version (else <see cref="PortalConcurrencyException"/>).</summary>
    [Requires(Permission.RequestDecide, AccessTargetKind.Request)]
    public async Task ApproveAsync(Actor actor, Guid requestId, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var effects = new RequestEffects();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await RequireDecisionAsync(db, actor, requestId, expectedVersion, ct);
        var context = await RequestWorkflow.LoadTenantAsync(db, request.TenantId, ct);

        var stage = TenantPolicies.Stage(context.Policy, request.CurrentStage);
        request.Approvals.Add(new RequestApproval { RequestId = request.Id, Stage = request.CurrentStage, ApproverId = actor.UserId, At = time.GetUtcNow() });
        var waitingFor = stage is { Mode: StageMode.AllOf } && !actor.IsAdmin
            ? stage.ApproverIds.Except(request.Approvals.Where(a => a.Stage == request.CurrentStage).Select(a => a.ApproverId)).ToList()
            : [];
        if (waitingFor.Count > 0)
        {
            var names = await RequestWorkflow.NamesAsync(db, waitingFor, ct);
            RequestTransitions.AddEvent(db, time, request, actor, RequestState.PendingApproval, RequestState.PendingApproval,
                $"approved by {actor.Name} at stage {request.CurrentStage}; still needs {string.Join(", ", names)}");
            db.Record(time, actor, AuditActions.RequestStageApproved, RequestWorkflow.Target(request), request.TenantId, $"stage {request.CurrentStage}");
            request.Version++;
        }
        else if (request.CurrentStage < request.StageCount)
        {
            db.Record(time, actor, AuditActions.RequestStageApproved, RequestWorkflow.Target(request), request.TenantId, $"stage {request.CurrentStage}");
            await EnterStageAsync(db, context, request, request.CurrentStage + 1, actor,
                $"stage {request.CurrentStage} approved by {actor.Name}", effects, ct);
        }
        else
        {
            await FinalApproveAsync(db, context, request, actor, $"approved by {actor.Name}", effects, ct);
        }

        await RequestWorkflow.SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        effects.Publish(live, request);
    }

    [Requires(Permission.RequestDecide, AccessTargetKind.Request)]
    public Task RejectAsync(Actor actor, Guid requestId, string reason, CancellationToken ct = default) => RejectAsync(actor, requestId, reason, null, ct);

    /// <summary>Rejects; with <paramref name="expectedVersion"/>, only while the request is still at that version (else <see cref="PortalConcurrencyException"/>).</summary>
    [Requires(Permission.RequestDecide, AccessTargetKind.Request)]
    public async Task RejectAsync(Actor actor, Guid requestId, string reason, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var trimmed = reason?.Trim() ?? "";
        if (trimmed.Length == 0)
            throw new PortalValidationException("Reason", "Say why the request is rejected; the requester sees it.");
        if (trimmed.Length > 1000)
            throw new PortalValidationException("Reason", "A reason has at most 1000 characters.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var effects = new RequestEffects();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await RequireDecisionAsync(db, actor, requestId, expectedVersion, ct);
        request.Reason = trimmed;
        RequestTransitions.Move(db, time, request, RequestState.Rejected, actor, $"rejected by {actor.Name}: {trimmed}");
        effects.Notify(db, time, request.RequesterId, request.TenantId, NotificationKind.RequestDecided,
            $"Your request for {RequestWorkflow.Describe(request)} was rejected: {trimmed}", RequestWorkflow.Link(request));
        await RequestWorkflow.SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        effects.Publish(live, request);
    }

    [Requires(Permission.RequestCancel, AccessTargetKind.Request)]
    public Task CancelAsync(Actor actor, Guid requestId, CancellationToken ct = default) => CancelAsync(actor, requestId, null, ct);

    /// <summary>Cancels; with <paramref name="expectedVersion"/>, only while the request is still at that version (else <see cref="PortalConcurrencyException"/>).</summary>
    [Requires(Permission.RequestCancel, AccessTargetKind.Request)]
    public async Task CancelAsync(Actor actor, Guid requestId, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await access.RequireAsync(db, actor, Permission.RequestCancel, AccessTarget.Request(requestId), "cancel request", ct);
        var request = await RequestWorkflow.LoadRequestAsync(db, requestId, ct);
        PortalConcurrencyException.ThrowIfStale(expectedVersion, request.Version, "The request");
        RequestStateMachine.EnsureCanMove(request.State, RequestState.Cancelled);
        request.Reason = $"cancelled by {actor.Name}";
        RequestTransitions.Move(db, time, request, RequestState.Cancelled, actor, $"cancelled by {actor.Name}");
        await RequestWorkflow.SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        live.Publish(new RequestChanged(request.TenantId, request.Id, request.Version));
    }

    /// <summary>Approves each request in turn; one refusal does not stop the others.</summary>
    [Requires(Permission.RequestDecide)]
    public async Task<IReadOnlyList<BulkOutcome>> BulkApproveAsync(Actor actor, IReadOnlyCollection<Guid> requestIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(requestIds);
        await access.RequireAsync(actor, Permission.RequestDecide, AccessTarget.Portal, "approve requests in bulk", ct);
        var outcomes = new List<BulkOutcome>();
        foreach (var id in requestIds.Distinct())
        {
            try
            {
                await ApproveAsync(actor, id, ct);
                outcomes.Add(new BulkOutcome(id, true, null));
            }
            catch (Exception e) when (e is PortalValidationException or PortalAccessDeniedException or PortalNotFoundException)
            {
                outcomes.Add(new BulkOutcome(id, false, e.Message));
            }
        }

        return outcomes;
    }

    /// <summary>
    /// Escalates or expires pending requests whose stage has waited longer than the tenant's approval
    /// time limit. Returns how many were handled. Run by <see cref="ApprovalDeadlineMonitor"/>.
    /// </summary>
    public async Task<int> HandleOverdueAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var overdue = await db.Requests.Where(r => r.State == RequestState.PendingApproval && r.ApprovalDeadline != null && r.ApprovalDeadline <= now)
            .Select(r => r.Id).ToListAsync(ct);
        foreach (var id in overdue)
        {
            await using var itemDb = await dbFactory.CreateDbContextAsync(ct);
            var effects = new RequestEffects();
            await using var tx = await itemDb.Database.BeginTransactionAsync(ct);
            var request = await RequestWorkflow.LoadRequestAsync(itemDb, id, ct);
            if (request.State != RequestState.PendingApproval || request.ApprovalDeadline is null || request.ApprovalDeadline > now)
                continue;
            var policy = await TenantPolicies.LoadAsync(itemDb, request.TenantId, ct);
            if (policy.OnTimeout == ApprovalTimeoutAction.Expire)
            {
                request.Reason = "no decision within the approval time limit";
                RequestTransitions.Move(itemDb, time, request, RequestState.Expired, Actor.System, "expired: no decision within the approval time limit");
                effects.Notify(itemDb, time, request.RequesterId, request.TenantId, NotificationKind.RequestDecided,
                    $"Your request for {RequestWorkflow.Describe(request)} expired without a decision.", RequestWorkflow.Link(request));
            }
            else
            {
                request.Escalated = true;
                request.ApprovalDeadline = null;
                RequestTransitions.AddEvent(itemDb, time, request, Actor.System, RequestState.PendingApproval, RequestState.PendingApproval,
                    "escalated to admins: no decision within the approval time limit");
                itemDb.Record(time, Actor.System, AuditActions.RequestEscalated, RequestWorkflow.Target(request), request.TenantId);
                request.Version++;
                foreach (var admin in await itemDb.UserIdsInRoleAsync(GlobalRoles.Admin, ct))
                {
                    effects.Notify(itemDb, time, admin, request.TenantId, NotificationKind.ApprovalNeeded,
                        $"Escalated: {RequestWorkflow.Describe(request)} in {await RequestWorkflow.TenantNameAsync(itemDb, request.TenantId, ct)} waits for a decision.",
                        RequestWorkflow.Link(request));
                }
            }

            await itemDb.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            effects.Publish(live, request);
        }

        return overdue.Count;
    }

    /// <summary>
    /// The request, once the actor may see it, it waits for a decision and the actor may give it. A request
    /// no longer pending is bad input (nothing to decide); one the actor may not decide is a refusal, audited.
    /// </summary>
    private async Task<Request> RequireDecisionAsync(PortalDbContext db, Actor actor, Guid requestId, long? expectedVersion, CancellationToken ct)
    {
        await access.RequireAsync(db, actor, Permission.RequestView, AccessTarget.Request(requestId), "decide request", ct);
        var state = await db.Requests.Where(r => r.Id == requestId).Select(r => r.State).FirstAsync(ct);
        if (state != RequestState.PendingApproval)
            RequestStateMachine.EnsureCanMove(state, RequestState.Approved);
        await access.RequireAsync(db, actor, Permission.RequestDecide, AccessTarget.Request(requestId), "decide request", ct);
        var request = await RequestWorkflow.LoadRequestAsync(db, requestId, ct);
        PortalConcurrencyException.ThrowIfStale(expectedVersion, request.Version, "The request");
        return request;
    }

    internal async Task EnterStageAsync(
        PortalDbContext db, TenantContext context, Request request, int stage, Actor actor, string why, RequestEffects effects, CancellationToken ct)
    {
        RequestStateMachine.EnsureCanMove(request.State, RequestState.PendingApproval);
        var approvers = await RequestWorkflow.StageApproverNamesAsync(db, context.Policy, stage, ct);
        var message = $"{why}; stage {stage} of {context.Policy.Stages.Count}: {RequestWorkflow.StageDescription(context.Policy.Stages[stage - 1], approvers)}";
        // Entering the first stage, or the next one: a move (to the same state for a later stage).
        RequestTransitions.Move(db, time, request, RequestState.PendingApproval, actor, message);
        request.CurrentStage = stage;
        request.StageCount = context.Policy.Stages.Count;
        request.ApprovalDeadline = context.Policy.ApprovalTimeLimit is { } limit ? time.GetUtcNow() + limit : null;
        foreach (var approver in await RequestWorkflow.StageApproverIdsAsync(db, context.Policy.Stages[stage - 1], ct))
        {
            if (approver == request.RequesterId)
                continue;
            effects.Notify(db, time, approver, request.TenantId, NotificationKind.ApprovalNeeded,
                $"{request.RequesterName} asks for {RequestWorkflow.Describe(request)} in {context.Tenant.Name}.", RequestWorkflow.Link(request));
        }
    }

    internal async Task FinalApproveAsync(
        PortalDbContext db, TenantContext context, Request request, Actor actor, string message, RequestEffects effects, CancellationToken ct)
    {
        // The race-free quota check: this transaction holds the database's write lock (SQLite) or will
        // fail on the tenant's quota version (other databases) if another approval got in first.
        var usage = await RequestWorkflow.UsageAsync(db, request.TenantId, ct);
        var quota = QuotaCheck.For(context.Tenant.Quota, usage, request.Demand);
        if (!quota.Fits)
            throw new PortalValidationException("", $"Approving would exceed {context.Tenant.Name}'s quota: {quota.Describe()}. Reject it, or raise the quota first.");
        db.Entry(context.Tenant).Property<long>("QuotaVersion").CurrentValue += 1;

        RequestTransitions.Move(db, time, request, RequestState.Approved, actor, message);
        var now = time.GetUtcNow();
        switch (request.Kind)
        {
            case RequestKind.NewVm:
            case RequestKind.NewDatabase:
                effects.Resources.Add(await ResourceApprovals.CreateAsync(db, request, actor, now, ct));
                break;
            case RequestKind.ResizeVm:
                effects.Resources.Add(await ResourceApprovals.ReserveResizeAsync(db, request, actor, now, ct));
                break;
            case RequestKind.ExtendLease:
                var leased = await LeaseExtensions.ExtendAsync(db, request, now, ct);
                effects.Resources.Add(leased);
                RequestTransitions.Move(db, time, request, RequestState.Completed, actor, $"lease of {leased.Name} now ends {leased.LeaseEndsAt:yyyy-MM-dd HH:mm} UTC");
                break;
            case RequestKind.QuotaIncrease:
                TenantQuotas.Change(db, time, actor, context.Tenant, request.RequestedQuota!, "by request");
                RequestTransitions.Move(db, time, request, RequestState.Completed, actor, "the new quota is in force");
                break;
        }

        effects.Notify(db, time, request.RequesterId, request.TenantId, NotificationKind.RequestDecided,
            $"Your request for {RequestWorkflow.Describe(request)} was approved.", RequestWorkflow.Link(request));
    }
}
