using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

/// <summary>
/// The request workflow: pre-flight, submit, approve (stage by stage), reject, cancel, time-outs.
/// Each call is one transaction holding the state change, its timeline event, its audit entry, the
/// notifications and the operations it causes; live messages go out after the commit. On SQLite the
/// transaction takes the write lock at BEGIN, so racing approvals serialize and the later one sees
/// the quota the earlier one reserved; elsewhere the tenant's quota version catches the race.
/// </summary>
public sealed partial class RequestService(
    IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, LiveUpdates live, ILogger<RequestService> logger)
{
    private static readonly Actor PolicyActor = new("policy", "approval policy", new HashSet<string>());

    public async Task<Preflight> PreflightAsync(Actor actor, RequestDraft draft, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var context = await LoadTenantAsync(db, actor, draft.TenantId, TenantPermission.Request, ct);
        return (await ResolveAsync(db, context, draft, ct)).Preflight;
    }

    public async Task<Guid> SubmitAsync(Actor actor, RequestDraft draft, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(draft);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var effects = new Effects();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var context = await LoadTenantAsync(db, actor, draft.TenantId, TenantPermission.Request, ct);
        var resolved = await ResolveAsync(db, context, draft, ct);
        var preflight = resolved.Preflight;
        if (!preflight.CanSubmit)
        {
            var errors = preflight.Errors.ToDictionary(e => e.Key, e => e.Value);
            if (preflight.BlockedReason is { } reason && preflight.Errors.Count == 0)
                errors[""] = [reason];
            throw new PortalValidationException(errors);
        }

        var now = time.GetUtcNow();
        var request = new Request
        {
            Id = Guid.CreateVersion7(now),
            TenantId = draft.TenantId,
            RequesterId = actor.UserId,
            RequesterName = actor.Name,
            Kind = draft.Kind,
            State = RequestState.Submitted,
            Name = resolved.Name,
            TemplateId = draft.Kind == RequestKind.NewVm ? draft.TemplateId : null,
            SizeId = draft.Kind is RequestKind.NewVm or RequestKind.ResizeVm ? draft.SizeId : null,
            OfferingId = draft.Kind == RequestKind.NewDatabase ? draft.OfferingId : null,
            LeaseDays = draft.LeaseDays,
            ResourceId = draft.Kind is RequestKind.ResizeVm or RequestKind.ExtendLease ? draft.ResourceId : null,
            Demand = resolved.Demand,
            RequestedQuota = draft.Kind == RequestKind.QuotaIncrease ? draft.RequestedQuota : null,
            MonthlyCost = preflight.MonthlyCost,
            Justification = draft.Justification.Trim(),
            SubmittedAt = now,
            StageCount = context.Policy.Stages.Count,
        };
        db.Requests.Add(request);
        AddEvent(db, request, actor, null, RequestState.Submitted, $"{Describe(request)} submitted");
        db.Record(time, actor, AuditActions.RequestSubmitted, Target(request), request.TenantId, Describe(request));

        if (preflight.Verdict.AutoApproves)
        {
            await FinalApproveAsync(db, context, request, PolicyActor, "approved automatically: within the tenant's auto-approval rules", effects, ct);
        }
        else
        {
            await EnterStageAsync(db, context, request, 1, actor,
                "needs approval because " + string.Join("; ", preflight.Verdict.Reasons), effects, ct);
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        effects.Publish(live, request);
        LogSubmitted(request.Id, request.Kind, request.State, actor.Name);
        return request.Id;
    }

    /// <summary>
    /// The one-click lease extension: asks for as many days as the tenant auto-approves (30 when it
    /// auto-approves none), so a first extension goes through at once and later ones follow the policy.
    /// </summary>
    public async Task<Guid> ExtendLeaseAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        Guid tenantId;
        int days;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            tenantId = await db.Resources.Where(r => r.Id == resourceId).Select(r => r.TenantId).FirstOrDefaultAsync(ct);
            if (tenantId == Guid.Empty)
                throw new PortalNotFoundException("That resource does not exist.");
            var policy = await PolicyOfAsync(db, tenantId, ct);
            days = Math.Min(policy.AutoApprove && policy.AutoMaxLeaseDays > 0 ? policy.AutoMaxLeaseDays : 30, policy.MaxLeaseDays);
        }

        return await SubmitAsync(actor, new RequestDraft { Kind = RequestKind.ExtendLease, TenantId = tenantId, ResourceId = resourceId, LeaseDays = days }, ct);
    }

    public async Task ApproveAsync(Actor actor, Guid requestId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var effects = new Effects();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await LoadRequestAsync(db, requestId, ct);
        var context = await LoadTenantAsync(db, Actor.System, request.TenantId, TenantPermission.View, ct);
        await EnsureCanDecideAsync(db, context, request, actor, ct);

        var stage = CurrentStage(context.Policy, request);
        request.Approvals.Add(new RequestApproval { RequestId = request.Id, Stage = request.CurrentStage, ApproverId = actor.UserId, At = time.GetUtcNow() });
        var waitingFor = stage is { Mode: StageMode.AllOf } && !actor.IsAdmin
            ? stage.ApproverIds.Except(request.Approvals.Where(a => a.Stage == request.CurrentStage).Select(a => a.ApproverId)).ToList()
            : [];
        if (waitingFor.Count > 0)
        {
            var names = await NamesAsync(db, waitingFor, ct);
            AddEvent(db, request, actor, RequestState.PendingApproval, RequestState.PendingApproval,
                $"approved by {actor.Name} at stage {request.CurrentStage}; still needs {string.Join(", ", names)}");
            db.Record(time, actor, AuditActions.RequestStageApproved, Target(request), request.TenantId, $"stage {request.CurrentStage}");
            request.Version++;
        }
        else if (request.CurrentStage < request.StageCount)
        {
            db.Record(time, actor, AuditActions.RequestStageApproved, Target(request), request.TenantId, $"stage {request.CurrentStage}");
            await EnterStageAsync(db, context, request, request.CurrentStage + 1, actor,
                $"stage {request.CurrentStage} approved by {actor.Name}", effects, ct);
        }
        else
        {
            await FinalApproveAsync(db, context, request, actor, $"approved by {actor.Name}", effects, ct);
        }

        await SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        effects.Publish(live, request);
    }

    public async Task RejectAsync(Actor actor, Guid requestId, string reason, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var trimmed = reason?.Trim() ?? "";
        if (trimmed.Length == 0)
            throw new PortalValidationException("Reason", "Say why the request is rejected; the requester sees it.");
        if (trimmed.Length > 1000)
            throw new PortalValidationException("Reason", "A reason has at most 1000 characters.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var effects = new Effects();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await LoadRequestAsync(db, requestId, ct);
        var context = await LoadTenantAsync(db, Actor.System, request.TenantId, TenantPermission.View, ct);
        await EnsureCanDecideAsync(db, context, request, actor, ct);
        request.Reason = trimmed;
        Move(db, request, RequestState.Rejected, actor, $"rejected by {actor.Name}: {trimmed}");
        effects.Notify(db, time, request.RequesterId, request.TenantId, NotificationKind.RequestDecided,
            $"Your request for {Describe(request)} was rejected: {trimmed}", Link(request));
        await SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        effects.Publish(live, request);
    }

    public async Task CancelAsync(Actor actor, Guid requestId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await LoadRequestAsync(db, requestId, ct);
        var context = await LoadTenantAsync(db, actor, request.TenantId, TenantPermission.View, ct);
        if (request.RequesterId != actor.UserId && !actor.IsAdmin && context.MyRole != TenantRole.Owner)
            await DenyAsync(db, actor, request.TenantId, "cancel another member's request", ct);
        RequestStateMachine.EnsureCanMove(request.State, RequestState.Cancelled);
        request.Reason = $"cancelled by {actor.Name}";
        Move(db, request, RequestState.Cancelled, actor, $"cancelled by {actor.Name}");
        await SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        live.Publish(new RequestChanged(request.TenantId, request.Id, request.Version));
    }

    /// <summary>Approves each request in turn; one refusal does not stop the others.</summary>
    public async Task<IReadOnlyList<BulkOutcome>> BulkApproveAsync(Actor actor, IReadOnlyCollection<Guid> requestIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(requestIds);
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
            var effects = new Effects();
            await using var tx = await itemDb.Database.BeginTransactionAsync(ct);
            var request = await LoadRequestAsync(itemDb, id, ct);
            if (request.State != RequestState.PendingApproval || request.ApprovalDeadline is null || request.ApprovalDeadline > now)
                continue;
            var policy = await PolicyOfAsync(itemDb, request.TenantId, ct);
            if (policy.OnTimeout == ApprovalTimeoutAction.Expire)
            {
                request.Reason = "no decision within the approval time limit";
                Move(itemDb, request, RequestState.Expired, Actor.System, "expired: no decision within the approval time limit");
                effects.Notify(itemDb, time, request.RequesterId, request.TenantId, NotificationKind.RequestDecided,
                    $"Your request for {Describe(request)} expired without a decision.", Link(request));
            }
            else
            {
                request.Escalated = true;
                request.ApprovalDeadline = null;
                AddEvent(itemDb, request, Actor.System, RequestState.PendingApproval, RequestState.PendingApproval,
                    "escalated to admins: no decision within the approval time limit");
                itemDb.Record(time, Actor.System, AuditActions.RequestEscalated, Target(request), request.TenantId);
                request.Version++;
                foreach (var admin in await itemDb.UserIdsInRoleAsync(GlobalRoles.Admin, ct))
                {
                    effects.Notify(itemDb, time, admin, request.TenantId, NotificationKind.ApprovalNeeded,
                        $"Escalated: {Describe(request)} in {await TenantNameAsync(itemDb, request.TenantId, ct)} waits for a decision.", Link(request));
                }
            }

            await itemDb.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            effects.Publish(live, request);
        }

        return overdue.Count;
    }

    public async Task<IReadOnlyList<RequestSummary>> ListForTenantAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var context = await LoadTenantAsync(db, actor, tenantId, TenantPermission.View, ct);
        var rows = await db.Requests.AsNoTracking().Where(r => r.TenantId == tenantId)
            .OrderByDescending(r => r.SubmittedAt).Take(500).ToListAsync(ct);
        return [.. rows.Select(r => Summarize(r, context.Tenant.Name))];
    }

    public async Task<RequestDetails> GetAsync(Actor actor, Guid requestId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var request = await db.Requests.AsNoTracking().Include(r => r.Timeline).Include(r => r.Approvals)
            .FirstOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null)
            await DenyAsync(db, actor, null, $"view request {requestId}", ct);
        var context = await LoadTenantAsync(db, actor, request!.TenantId, TenantPermission.View, ct);
        var canCancel = RequestStateMachine.CanCancel(request.State)
            && (request.RequesterId == actor.UserId || actor.IsAdmin || context.MyRole == TenantRole.Owner);
        var canDecide = DecisionError(context, request, actor, await IsRoleApproverAsync(db, actor, ct)) is null;
        return new RequestDetails(
            Summarize(request, context.Tenant.Name), request.Demand, request.RequestedQuota, request.LeaseDays, request.Justification, request.ResourceId,
            [.. request.Timeline.OrderBy(e => e.At).ThenBy(e => e.Id).Select(e => new RequestTimelineEntry(e.At, e.ActorName, e.From, e.To, e.Message))],
            canCancel, canDecide, actor.IsAdmin || actor.IsHelpdesk ? request.FailureDetail : null);
    }

    /// <summary>Pending requests <paramref name="actor"/> may decide now, with the facts as after approval.</summary>
    public async Task<IReadOnlyList<InboxItem>> InboxAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!actor.IsAdmin && !actor.IsApprover)
            await DenyAsync(db, actor, null, "open the approval inbox", ct);
        var pending = await db.Requests.AsNoTracking().Include(r => r.Approvals)
            .Where(r => r.State == RequestState.PendingApproval).OrderBy(r => r.SubmittedAt).Take(500).ToListAsync(ct);
        var items = new List<InboxItem>();
        var isRoleApprover = await IsRoleApproverAsync(db, actor, ct);
        foreach (var tenantRequests in pending.GroupBy(r => r.TenantId))
        {
            var context = await LoadTenantAsync(db, Actor.System, tenantRequests.Key, TenantPermission.View, ct);
            foreach (var request in tenantRequests)
            {
                if (DecisionError(context, request, actor, isRoleApprover) is not null)
                    continue;
                var usage = await UsageAsync(db, request.TenantId, ct);
                var quota = QuotaCheck.For(context.Tenant.Quota, usage, request.Demand);
                var verdict = PolicyEvaluator.Evaluate(context.Policy, await FactsOfAsync(db, request, ct));
                items.Add(new InboxItem(Summarize(request, context.Tenant.Name),
                    new Preflight(new Dictionary<string, string[]>(), quota, verdict, request.MonthlyCost, await StageApproverNamesAsync(db, context.Policy, request.CurrentStage, ct))));
            }
        }

        return items;
    }

    // ---- the state machine's moves ------------------------------------------------------------

    private void Move(PortalDbContext db, Request request, RequestState to, Actor actor, string message)
    {
        RequestStateMachine.EnsureCanMove(request.State, to);
        var from = request.State;
        request.State = to;
        request.Version++;
        if (RequestStateMachine.IsTerminal(to))
        {
            request.ClosedAt = time.GetUtcNow();
            request.CurrentStage = 0;
            request.ApprovalDeadline = null;
        }

        AddEvent(db, request, actor, from, to, message);
        db.Record(time, actor, AuditActions.RequestMovedTo(to), Target(request), request.TenantId, message);
    }

    private async Task EnterStageAsync(PortalDbContext db, TenantContext context, Request request, int stage, Actor actor, string why, Effects effects, CancellationToken ct)
    {
        var from = request.State;
        RequestStateMachine.EnsureCanMove(from, RequestState.PendingApproval);
        request.CurrentStage = stage;
        request.StageCount = context.Policy.Stages.Count;
        request.ApprovalDeadline = context.Policy.ApprovalTimeLimit is { } limit ? time.GetUtcNow() + limit : null;
        var approvers = await StageApproverNamesAsync(db, context.Policy, stage, ct);
        request.State = RequestState.PendingApproval;
        request.Version++;
        var message = $"{why}; stage {stage} of {request.StageCount}: {StageDescription(context.Policy.Stages[stage - 1], approvers)}";
        AddEvent(db, request, actor, from, RequestState.PendingApproval, message);
        db.Record(time, actor, AuditActions.RequestMovedTo(RequestState.PendingApproval), Target(request), request.TenantId, message);
        foreach (var approver in await StageApproverIdsAsync(db, context.Policy.Stages[stage - 1], ct))
        {
            if (approver == request.RequesterId)
                continue;
            effects.Notify(db, time, approver, request.TenantId, NotificationKind.ApprovalNeeded,
                $"{request.RequesterName} asks for {Describe(request)} in {context.Tenant.Name}.", Link(request));
        }
    }

    private async Task FinalApproveAsync(PortalDbContext db, TenantContext context, Request request, Actor actor, string message, Effects effects, CancellationToken ct)
    {
        // The race-free quota check: this transaction holds the database's write lock (SQLite) or will
        // fail on the tenant's quota version (other databases) if another approval got in first.
        var usage = await UsageAsync(db, request.TenantId, ct);
        var quota = QuotaCheck.For(context.Tenant.Quota, usage, request.Demand);
        if (!quota.Fits)
            throw new PortalValidationException("", $"Approving would exceed {context.Tenant.Name}'s quota: {quota.Describe()}. Reject it, or raise the quota first.");
        db.Entry(context.Tenant).Property<long>("QuotaVersion").CurrentValue += 1;

        Move(db, request, RequestState.Approved, actor, message);
        var now = time.GetUtcNow();
        switch (request.Kind)
        {
            case RequestKind.NewVm:
            case RequestKind.NewDatabase:
                var resource = await NewResourceAsync(db, request, now, ct);
                db.Resources.Add(resource);
                request.ResourceId = resource.Id;
                db.Operations.Add(NewOperation(resource, OperationKind.Create, request, actor, now));
                effects.Resources.Add(resource);
                break;
            case RequestKind.ResizeVm:
                var vm = await db.Resources.FirstAsync(r => r.Id == request.ResourceId, ct);
                var size = await db.VmSizes.FirstAsync(s => s.Id == request.SizeId, ct);
                var operation = NewOperation(vm, OperationKind.Resize, request, actor, now);
                operation.TargetVCpus = size.VCpus;
                operation.TargetRamMiB = size.RamMiB;
                db.Operations.Add(operation);
                // The new size is reserved against quota now; the worker applies it to the guest.
                (vm.VCpus, vm.RamMiB, vm.SizeId) = (size.VCpus, size.RamMiB, size.Id);
                vm.Version++;
                effects.Resources.Add(vm);
                break;
            case RequestKind.ExtendLease:
                var leased = await db.Resources.FirstAsync(r => r.Id == request.ResourceId, ct);
                var start = leased.LeaseEndsAt > now ? leased.LeaseEndsAt : now;
                leased.LeaseEndsAt = start.AddDays(request.LeaseDays);
                leased.LeaseExtensions++;
                leased.LeaseWarningSentAt = null;
                if (leased.State == ResourceState.Expired)
                {
                    // Back from expiry: it stays stopped (the expiry shut it down) until someone starts it.
                    leased.State = ResourceState.Shutoff;
                    leased.ExpiredAt = null;
                }

                leased.Version++;
                effects.Resources.Add(leased);
                Move(db, request, RequestState.Completed, actor, $"lease of {leased.Name} now ends {leased.LeaseEndsAt:yyyy-MM-dd HH:mm} UTC");
                break;
            case RequestKind.QuotaIncrease:
                var before = TenantService.Describe(context.Tenant.Quota);
                context.Tenant.Quota = request.RequestedQuota!;
                db.Record(time, actor, AuditActions.QuotaChanged, $"tenant {context.Tenant.Name}", context.Tenant.Id,
                    $"from {before} to {TenantService.Describe(request.RequestedQuota!)} by request");
                Move(db, request, RequestState.Completed, actor, "the new quota is in force");
                break;
        }

        effects.Notify(db, time, request.RequesterId, request.TenantId, NotificationKind.RequestDecided,
            $"Your request for {Describe(request)} was approved.", Link(request));
    }

    private static async Task<Resource> NewResourceAsync(PortalDbContext db, Request request, DateTimeOffset now, CancellationToken ct)
    {
        var resource = new Resource
        {
            Id = Guid.CreateVersion7(now),
            TenantId = request.TenantId,
            Kind = request.Kind == RequestKind.NewVm ? ResourceKind.Vm : ResourceKind.Database,
            Name = request.Name,
            TemplateId = request.TemplateId,
            SizeId = request.SizeId,
            OfferingId = request.OfferingId,
            VCpus = request.Demand.VCpus,
            RamMiB = request.Demand.RamMiB,
            DiskGiB = request.Demand.DiskGiB,
            State = ResourceState.Provisioning,
            CreatedAt = now,
            LeaseEndsAt = now.AddDays(request.LeaseDays),
            RequestId = request.Id,
            Version = 1,
        };
        resource.HourlyPrice = request.Kind == RequestKind.NewVm
            ? (await db.VmTemplates.Where(t => t.Id == request.TemplateId).Select(t => t.HourlyPrice).FirstAsync(ct))
              + (await db.VmSizes.Where(s => s.Id == request.SizeId).Select(s => s.HourlyPrice).FirstAsync(ct))
            : await db.DatabaseOfferings.Where(o => o.Id == request.OfferingId).Select(o => o.HourlyPrice).FirstAsync(ct);
        return resource;
    }

    private static Operation NewOperation(Resource resource, OperationKind kind, Request request, Actor actor, DateTimeOffset now) =>
        Operation.Queue(resource, kind, actor.UserId, now, request.Id);

    private void AddEvent(PortalDbContext db, Request request, Actor actor, RequestState? from, RequestState to, string message) =>
        db.RequestEvents.Add(new RequestEvent
        {
            RequestId = request.Id,
            At = time.GetUtcNow(),
            ActorId = actor.UserId,
            ActorName = actor.Name,
            From = from,
            To = to,
            Message = message.Length > 1000 ? message[..1000] : message,
        });

    // ---- who may decide -----------------------------------------------------------------------

    private async Task EnsureCanDecideAsync(PortalDbContext db, TenantContext context, Request request, Actor actor, CancellationToken ct)
    {
        if (request.State != RequestState.PendingApproval)
            RequestStateMachine.EnsureCanMove(request.State, RequestState.Approved);
        var error = DecisionError(context, request, actor, await IsRoleApproverAsync(db, actor, ct));
        if (error is not null)
        {
            db.ChangeTracker.Clear();
            db.Record(time, actor, AuditActions.AccessDenied, Target(request), request.TenantId, "decide request: " + error);
            await SaveDenialAsync(db, ct);
            throw new PortalAccessDeniedException(error);
        }
    }

    /// <summary>Why <paramref name="actor"/> may not decide the request now; null when they may.</summary>
    private static string? DecisionError(TenantContext context, Request request, Actor actor, bool isRoleApprover)
    {
        if (request.State != RequestState.PendingApproval)
            return $"The request is {RequestStateMachine.Describe(request.State)}.";
        if (request.RequesterId == actor.UserId)
            return "You cannot decide your own request.";
        if (actor.IsAdmin)
            return null;
        var stage = CurrentStage(context.Policy, request);
        if (stage is null)
            return "Only an admin can decide this request.";
        var named = stage.ApproverIds.Count > 0;
        if (named ? !stage.ApproverIds.Contains(actor.UserId) : !isRoleApprover)
            return $"You are not an approver of stage {request.CurrentStage} for this tenant.";
        if (request.Approvals.Any(a => a.Stage == request.CurrentStage && a.ApproverId == actor.UserId))
            return "You already approved this stage.";
        return null;
    }

    private static ApprovalStage? CurrentStage(TenantPolicy policy, Request request) =>
        request.CurrentStage >= 1 && request.CurrentStage <= policy.Stages.Count ? policy.Stages[request.CurrentStage - 1] : null;

    private static async Task<bool> IsRoleApproverAsync(PortalDbContext db, Actor actor, CancellationToken ct) =>
        actor.IsApprover || (await db.UserIdsInRoleAsync(GlobalRoles.Approver, ct)).Contains(actor.UserId);

    private static async Task<List<string>> StageApproverIdsAsync(PortalDbContext db, ApprovalStage stage, CancellationToken ct) =>
        stage.ApproverIds.Count > 0 ? stage.ApproverIds : await db.UserIdsInRoleAsync(GlobalRoles.Approver, ct);

    private static async Task<IReadOnlyList<string>> StageApproverNamesAsync(PortalDbContext db, TenantPolicy policy, int stage, CancellationToken ct)
    {
        if (stage < 1 || stage > policy.Stages.Count)
            return ["an admin"];
        var ids = policy.Stages[stage - 1].ApproverIds;
        return ids.Count == 0 ? ["any approver"] : await NamesAsync(db, ids, ct);
    }

    private static async Task<List<string>> NamesAsync(PortalDbContext db, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToListAsync(ct);
        return [.. users.Select(u => u.Label).Order()];
    }

    private static string StageDescription(ApprovalStage stage, IReadOnlyList<string> approvers) =>
        stage.ApproverIds.Count == 0 ? "any approver"
        : stage.Mode == StageMode.AllOf ? "all of " + string.Join(", ", approvers)
        : "any one of " + string.Join(", ", approvers);

    // ---- resolving a draft into facts ---------------------------------------------------------

    private sealed record TenantContext(Tenant Tenant, TenantPolicy Policy, TenantRole? MyRole);

    private sealed record Resolved(Preflight Preflight, ResourceDemand Demand, string Name);

    private async Task<TenantContext> LoadTenantAsync(PortalDbContext db, Actor actor, Guid tenantId, TenantPermission permission, CancellationToken ct)
    {
        var tenant = await db.Tenants.Include(t => t.Memberships).FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        var myRole = tenant?.Memberships.FirstOrDefault(m => m.UserId == actor.UserId)?.Role;
        if (tenant is null || (actor != Actor.System && !TenantAccess.Allows(actor, permission, myRole, tenant.IsArchived)))
            await DenyAsync(db, actor, tenantId, permission == TenantPermission.Request ? "request for tenant" : "view tenant requests", ct);
        return new TenantContext(tenant!, await PolicyOfAsync(db, tenantId, ct), myRole);
    }

    private static async Task<TenantPolicy> PolicyOfAsync(PortalDbContext db, Guid tenantId, CancellationToken ct)
    {
        var policy = await db.TenantPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.TenantId == tenantId, ct) ?? TenantPolicy.Default(tenantId);
        // A stored policy without stages still needs someone to decide: any approver, as by default.
        if (policy.Stages.Count == 0)
            policy.Stages.Add(new ApprovalStage());
        return policy;
    }

    /// <summary>What the tenant's live resources hold now.</summary>
    internal static async Task<ResourceDemand> UsageAsync(PortalDbContext db, Guid tenantId, CancellationToken ct)
    {
        var live = await db.Resources.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.State != ResourceState.Deleted && r.State != ResourceState.Failed)
            .Select(r => new { r.Kind, r.VCpus, r.RamMiB, r.DiskGiB }).ToListAsync(ct);
        return new ResourceDemand
        {
            VCpus = live.Sum(r => r.VCpus),
            RamMiB = live.Sum(r => r.RamMiB),
            DiskGiB = live.Sum(r => r.DiskGiB),
            Vms = live.Count(r => r.Kind == ResourceKind.Vm),
            Databases = live.Count(r => r.Kind == ResourceKind.Database),
        };
    }

    private static async Task<Resolved> ResolveAsync(PortalDbContext db, TenantContext context, RequestDraft draft, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var demand = ResourceDemand.None;
        var name = (draft.Name ?? "").Trim();
        decimal monthly = 0;
        var facts = new PolicyFacts(draft.Kind, 0, 0, 0, draft.LeaseDays);
        var policy = context.Policy;

        switch (draft.Kind)
        {
            case RequestKind.NewVm:
            {
                await CheckNameAsync(db, context.Tenant.Id, name, errors, ct);
                var template = draft.TemplateId is { } templateId
                    ? await db.VmTemplates.AsNoTracking().Include(t => t.AllowedSizes).FirstOrDefaultAsync(t => t.Id == templateId, ct)
                    : null;
                if (template is null || !template.Enabled)
                    errors[nameof(RequestDraft.TemplateId)] = [template is null ? "Choose a template." : $"The template {template.Name} is no longer offered."];
                var size = draft.SizeId is { } sizeId ? await db.VmSizes.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sizeId, ct) : null;
                if (size is null || !size.Enabled)
                    errors[nameof(RequestDraft.SizeId)] = [size is null ? "Choose a size." : $"The size {size.Name} is no longer offered."];
                else if (template is not null && template.AllowedSizes.Count > 0 && template.AllowedSizes.All(s => s.Id != size.Id))
                    errors[nameof(RequestDraft.SizeId)] = [$"{template.Name} does not run at size {size.Name}; it allows {string.Join(", ", template.AllowedSizes.Select(s => s.Name).Order())}."];
                CheckLease(draft.LeaseDays, policy, errors);
                if (size is not null)
                {
                    demand = new ResourceDemand { VCpus = size.VCpus, RamMiB = size.RamMiB, DiskGiB = size.DiskGiB, Vms = 1 };
                    monthly = Showback.Monthly(size.HourlyPrice + (template?.HourlyPrice ?? 0));
                    facts = facts with { VCpus = size.VCpus, RamMiB = size.RamMiB, DiskGiB = size.DiskGiB, TemplateId = template?.Id };
                }

                break;
            }

            case RequestKind.NewDatabase:
            {
                await CheckNameAsync(db, context.Tenant.Id, name, errors, ct);
                var offering = draft.OfferingId is { } offeringId ? await db.DatabaseOfferings.AsNoTracking().FirstOrDefaultAsync(o => o.Id == offeringId, ct) : null;
                if (offering is null || !offering.Enabled)
                    errors[nameof(RequestDraft.OfferingId)] = [offering is null ? "Choose a database offering." : $"The offering {offering.Name} is no longer available."];
                CheckLease(draft.LeaseDays, policy, errors);
                if (offering is not null)
                {
                    demand = new ResourceDemand { DiskGiB = offering.StorageGiB, Databases = 1 };
                    monthly = Showback.Monthly(offering.HourlyPrice);
                    facts = facts with { DiskGiB = offering.StorageGiB, OfferingId = offering.Id };
                }

                break;
            }

            case RequestKind.ResizeVm:
            {
                var vm = await TargetAsync(db, context.Tenant.Id, draft.ResourceId, ResourceKind.Vm, errors, ct);
                var size = draft.SizeId is { } sizeId ? await db.VmSizes.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sizeId, ct) : null;
                if (size is null || !size.Enabled)
                    errors[nameof(RequestDraft.SizeId)] = ["Choose an offered size."];
                else if (vm is not null && vm.SizeId == size.Id)
                    errors[nameof(RequestDraft.SizeId)] = [$"{vm.Name} already has size {size.Name}."];
                else if (vm?.TemplateId is { } templateId)
                {
                    var allowed = await db.VmTemplates.AsNoTracking().Where(t => t.Id == templateId).SelectMany(t => t.AllowedSizes.Select(s => s.Id)).ToListAsync(ct);
                    if (allowed.Count > 0 && !allowed.Contains(size.Id))
                        errors[nameof(RequestDraft.SizeId)] = [$"{vm.Name}'s template does not run at size {size.Name}."];
                }

                if (vm is not null && size is not null)
                {
                    name = vm.Name;
                    // A resize changes vCPUs and memory (what hypervisors resize); the disk stays as it is.
                    demand = new ResourceDemand { VCpus = size.VCpus - vm.VCpus, RamMiB = size.RamMiB - vm.RamMiB };
                    var templatePrice = vm.TemplateId is { } t ? await db.VmTemplates.Where(x => x.Id == t).Select(x => x.HourlyPrice).FirstOrDefaultAsync(ct) : 0;
                    monthly = Showback.Monthly(size.HourlyPrice + templatePrice);
                    facts = facts with { VCpus = size.VCpus, RamMiB = size.RamMiB, DiskGiB = vm.DiskGiB, TemplateId = vm.TemplateId };
                }

                break;
            }

            case RequestKind.ExtendLease:
            {
                var resource = await TargetAsync(db, context.Tenant.Id, draft.ResourceId, null, errors, ct);
                CheckLease(draft.LeaseDays, policy, errors);
                if (resource is not null)
                {
                    name = resource.Name;
                    monthly = Showback.Monthly(resource.HourlyPrice);
                    facts = facts with { IsFirstExtension = resource.LeaseExtensions == 0 };
                }

                break;
            }

            case RequestKind.QuotaIncrease:
            {
                if (draft.RequestedQuota is not { } asked)
                {
                    errors[nameof(RequestDraft.RequestedQuota)] = ["Say what quota the tenant needs."];
                    break;
                }

                foreach (var (field, messages) in TenantRules.QuotaErrors(asked))
                    errors[field] = messages;
                var current = context.Tenant.Quota;
                if (errors.Count == 0 && asked.VCpus <= current.VCpus && asked.RamMiB <= current.RamMiB && asked.DiskGiB <= current.DiskGiB
                    && asked.Vms <= current.Vms && asked.Databases <= current.Databases)
                {
                    errors[nameof(RequestDraft.RequestedQuota)] = ["Ask for more than the current quota in at least one dimension."];
                }

                name = context.Tenant.Name;
                break;
            }

            default:
                errors[nameof(RequestDraft.Kind)] = ["Choose what to request."];
                break;
        }

        if (draft.Justification?.Trim().Length > 1000)
            errors[nameof(RequestDraft.Justification)] = ["A justification has at most 1000 characters."];

        var usage = await UsageAsync(db, context.Tenant.Id, ct);
        var quota = QuotaCheck.For(context.Tenant.Quota, usage, demand);
        var verdict = PolicyEvaluator.Evaluate(policy, facts);
        var approvers = verdict.AutoApproves ? [] : await StageApproverNamesAsync(db, policy, 1, ct);
        return new Resolved(new Preflight(errors, quota, verdict, monthly, approvers), demand, name);
    }

    private static void CheckLease(int days, TenantPolicy policy, Dictionary<string, string[]> errors)
    {
        if (days < 1)
            errors[nameof(RequestDraft.LeaseDays)] = ["A lease is at least 1 day."];
        else if (days > policy.MaxLeaseDays)
            errors[nameof(RequestDraft.LeaseDays)] = [$"At most {policy.MaxLeaseDays} days for this tenant."];
    }

    private static async Task<Resource?> TargetAsync(PortalDbContext db, Guid tenantId, Guid? resourceId, ResourceKind? kind, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var resource = resourceId is { } id ? await db.Resources.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.TenantId == tenantId, ct) : null;
        if (resource is null || (kind is { } k && resource.Kind != k))
        {
            errors[nameof(RequestDraft.ResourceId)] = [kind == ResourceKind.Vm ? "Choose one of this tenant's VMs." : "Choose one of this tenant's resources."];
            return null;
        }

        if (resource.State is ResourceState.Deleted or ResourceState.Deleting or ResourceState.Failed)
        {
            errors[nameof(RequestDraft.ResourceId)] = [$"{resource.Name} is {resource.State.ToString().ToLowerInvariant()}."];
            return null;
        }

        if (await db.Requests.AnyAsync(r => r.ResourceId == resource.Id && (r.Kind == RequestKind.ResizeVm || r.Kind == RequestKind.ExtendLease)
                && (r.State == RequestState.Submitted || r.State == RequestState.PendingApproval), ct))
        {
            errors[nameof(RequestDraft.ResourceId)] = [$"{resource.Name} already has a request waiting for approval."];
            return null;
        }

        return resource;
    }

    [GeneratedRegex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    /// <summary>A DNS label (RFC 1123), free among the tenant's live resources and open requests.</summary>
    public static string? NameError(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
            return "Enter a name.";
        if (name.Length > 63)
            return "A name has at most 63 characters.";
        if (!DnsLabel().IsMatch(name))
        {
            return name.Any(char.IsUpper) ? "Use lower-case letters only."
                : !char.IsAsciiLetterLower(name[0]) ? "A name starts with a letter."
                : name.EndsWith('-') ? "A name cannot end with a hyphen."
                : "Use lower-case letters, digits and hyphens only.";
        }

        return null;
    }

    private static async Task CheckNameAsync(PortalDbContext db, Guid tenantId, string name, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (NameError(name) is { } error)
        {
            errors[nameof(RequestDraft.Name)] = [error];
            return;
        }

        if (await db.Resources.AnyAsync(r => r.TenantId == tenantId && r.Name == name && r.State != ResourceState.Deleted && r.State != ResourceState.Failed, ct))
            errors[nameof(RequestDraft.Name)] = [$"This tenant already has a resource named {name}."];
        else if (await db.Requests.AnyAsync(r => r.TenantId == tenantId && r.Name == name
                     && (r.Kind == RequestKind.NewVm || r.Kind == RequestKind.NewDatabase)
                     && (r.State == RequestState.Submitted || r.State == RequestState.PendingApproval || r.State == RequestState.Approved || r.State == RequestState.Provisioning), ct))
            errors[nameof(RequestDraft.Name)] = [$"An open request already asks for {name}."];
    }

    private static async Task<PolicyFacts> FactsOfAsync(PortalDbContext db, Request request, CancellationToken ct)
    {
        var facts = new PolicyFacts(request.Kind, request.Demand.VCpus, request.Demand.RamMiB, request.Demand.DiskGiB, request.LeaseDays, request.TemplateId, request.OfferingId);
        if (request.Kind is RequestKind.ResizeVm && request.SizeId is { } sizeId && await db.VmSizes.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sizeId, ct) is { } size)
            facts = facts with { VCpus = size.VCpus, RamMiB = size.RamMiB, DiskGiB = size.DiskGiB };
        if (request.Kind is RequestKind.ExtendLease && request.ResourceId is { } id)
            facts = facts with { IsFirstExtension = await db.Resources.Where(r => r.Id == id).Select(r => r.LeaseExtensions).FirstOrDefaultAsync(ct) == 0 };
        return facts;
    }

    // ---- small helpers ------------------------------------------------------------------------

    private static async Task<Request> LoadRequestAsync(PortalDbContext db, Guid requestId, CancellationToken ct) =>
        await db.Requests.Include(r => r.Approvals).FirstOrDefaultAsync(r => r.Id == requestId, ct)
        ?? throw new PortalNotFoundException("That request does not exist.");

    private static async Task<string> TenantNameAsync(PortalDbContext db, Guid tenantId, CancellationToken ct) =>
        await db.Tenants.Where(t => t.Id == tenantId).Select(t => t.Name).FirstOrDefaultAsync(ct) ?? "a tenant";

    private static async Task SaveAsync(PortalDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new PortalValidationException("", "Someone else changed this request or the tenant's quota at the same moment. Reload and try again.");
        }
    }

    private async Task DenyAsync(PortalDbContext db, Actor actor, Guid? tenantId, string what, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.Record(time, actor, AuditActions.AccessDenied, tenantId is null ? "requests" : $"tenant {tenantId}", null, what);
        await SaveDenialAsync(db, ct);
        throw new PortalAccessDeniedException();
    }

    /// <summary>
    /// Saves the denial's audit entry (the only pending change) and commits the caller's transaction
    /// if there is one: the exception that follows would otherwise roll the entry back with it.
    /// </summary>
    private static async Task SaveDenialAsync(PortalDbContext db, CancellationToken ct)
    {
        await db.SaveChangesAsync(ct);
        if (db.Database.CurrentTransaction is { } tx)
            await tx.CommitAsync(ct);
    }

    internal static RequestSummary Summarize(Request r, string tenantName) => new(
        r.Id, r.TenantId, tenantName, r.Kind, r.State, r.Name, r.RequesterName, r.SubmittedAt, r.CurrentStage, r.StageCount,
        r.Escalated, r.MonthlyCost, r.Reason, r.Version);

    public static string Describe(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Kind switch
        {
            RequestKind.NewVm => $"VM {request.Name}",
            RequestKind.NewDatabase => $"database {request.Name}",
            RequestKind.ResizeVm => $"resize of {request.Name}",
            RequestKind.ExtendLease => $"a {request.LeaseDays}-day lease extension of {request.Name}",
            RequestKind.QuotaIncrease => "a quota increase",
            _ => request.Kind.ToString(),
        };
    }

    private static string Target(Request request) => $"request {request.Id}";

    private static string Link(Request request) => $"/requests/{request.Id}";

    /// <summary>What a transaction caused, published on the bus only after it commits.</summary>
    private sealed class Effects
    {
        public List<Notification> Notifications { get; } = [];

        public List<Resource> Resources { get; } = [];

        public void Notify(PortalDbContext db, TimeProvider time, string userId, Guid tenantId, NotificationKind kind, string text, string link)
        {
            Notifications.Add(NotificationService.Add(db, time, userId, kind, text, link, tenantId));
        }

        public void Publish(LiveUpdates live, Request request)
        {
            live.Publish(new RequestChanged(request.TenantId, request.Id, request.Version));
            foreach (var resource in Resources)
                live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
            foreach (var notification in Notifications)
                live.Publish(new NotificationAdded(notification.UserId, notification.Id));
        }
    }

    [LoggerMessage(LogLevel.Information, "Request {RequestId} ({Kind}) submitted by {Actor}: now {State}")]
    private partial void LogSubmitted(Guid requestId, RequestKind kind, RequestState state, string actor);
}
