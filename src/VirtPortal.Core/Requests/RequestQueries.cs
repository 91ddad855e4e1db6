using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

/// <summary>Requests as their viewers see them: a tenant's list, one request with what the viewer may do to it, the approval inbox.</summary>
public sealed class RequestQueries(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access)
{
    [Requires(Permission.RequestView, AccessTargetKind.Tenant)]
    public async Task<IReadOnlyList<RequestSummary>> ListForTenantAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.RequestView, AccessTarget.Tenant(tenantId), "view tenant requests", ct);
        var tenantName = await db.Tenants.Where(t => t.Id == tenantId).Select(t => t.Name).FirstAsync(ct);
        var rows = await db.Requests.AsNoTracking().Where(r => r.TenantId == tenantId)
            .OrderByDescending(r => r.SubmittedAt).Take(500).ToListAsync(ct);
        return [.. rows.Select(r => RequestWorkflow.Summarize(r, tenantName))];
    }

    /// <summary>
    /// A page of the requests the actor may see, newest first: every tenant's for staff, their tenants' for
    /// members (the one tenant of a token limited to it), or one tenant's when <paramref name="tenantId"/> is set.
    /// </summary>
    [Requires(Permission.SignedIn)]
    public async Task<Page<RequestSummary>> PageAsync(Actor actor, Guid? tenantId, PageRequest page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(page);
        var limit = page.Checked;
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "list requests", ct);
        var scope = await access.ScopeAsync(actor, Permission.RequestView, tenantId, "view tenant requests", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Requests.AsNoTracking();
        if (!scope.All)
            query = query.Where(r => scope.TenantIds.Contains(r.TenantId));
        if (page.After is { } after)
            query = query.Where(r => r.Id.CompareTo(after) < 0);
        var rows = await query.OrderByDescending(r => r.Id).Take(limit + 1).ToListAsync(ct);
        var tenantIds = rows.Select(r => r.TenantId).Distinct().ToList();
        var names = await db.Tenants.AsNoTracking().Where(t => tenantIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        return Paging.Of([.. rows.Select(r => RequestWorkflow.Summarize(r, names.GetValueOrDefault(r.TenantId) ?? ""))], page, r => r.Id);
    }

    /// <summary>
    /// One request, with whether the viewer may cancel or decide it now (the flags the server's own rules
    /// give). The host's words for a failure go to those who read the whole audit log, where they are kept.
    /// </summary>
    [Requires(Permission.RequestView, AccessTargetKind.Request)]
    public async Task<RequestDetails> GetAsync(Actor actor, Guid requestId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.RequestView, AccessTarget.Request(requestId), "view request", ct);
        var request = await db.Requests.AsNoTracking().Include(r => r.Timeline).Include(r => r.Approvals).FirstAsync(r => r.Id == requestId, ct);
        var tenantName = await db.Tenants.Where(t => t.Id == request.TenantId).Select(t => t.Name).FirstAsync(ct);
        var can = await access.CapabilitiesAsync(actor, AccessTarget.Request(requestId), ct);
        var readsHostDetail = await access.AllowsAsync(actor, Permission.AuditRead, AccessTarget.Portal, ct);
        return new RequestDetails(
            RequestWorkflow.Summarize(request, tenantName), request.Demand, request.RequestedQuota, request.LeaseDays, request.Justification, request.ResourceId,
            [.. request.Timeline.OrderBy(e => e.At).ThenBy(e => e.Id).Select(e => new RequestTimelineEntry(e.At, e.ActorName, e.From, e.To, e.Message))],
            RequestStateMachine.CanCancel(request.State) && can.Can(Permission.RequestCancel),
            can.Can(Permission.RequestDecide),
            readsHostDetail ? request.FailureDetail : null);
    }

    /// <summary>Pending requests <paramref name="actor"/> may decide now, with the facts as after approval.</summary>
    [Requires(Permission.RequestDecide)]
    public async Task<IReadOnlyList<InboxItem>> InboxAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // The inbox lists what the user may decide: a read-only token reads it too, and is refused when it acts.
        await access.RequireAsync(db, actor.ForReading(), Permission.RequestDecide, AccessTarget.Portal, "open the approval inbox", ct);
        var pending = await db.Requests.AsNoTracking().Include(r => r.Approvals)
            .Where(r => r.State == RequestState.PendingApproval).OrderBy(r => r.SubmittedAt).Take(500).ToListAsync(ct);
        var items = new List<InboxItem>();
        var isRoleApprover = await PortalAccess.IsRoleApproverAsync(db, actor, ct);
        foreach (var tenantRequests in pending.GroupBy(r => r.TenantId))
        {
            var context = await RequestWorkflow.LoadTenantAsync(db, tenantRequests.Key, ct);
            var tenantFacts = AccessFacts.Of(context.Tenant, actor.UserId) with { IsRoleApprover = isRoleApprover };
            foreach (var request in tenantRequests)
            {
                var facts = tenantFacts with { Request = RequestFacts.Of(request, context.Policy, actor.UserId) };
                if (!AccessRules.Allows(actor.ForReading(), Permission.RequestDecide, facts))
                    continue;
                var usage = await RequestWorkflow.UsageAsync(db, request.TenantId, ct);
                var quota = QuotaCheck.For(context.Tenant.Quota, usage, request.Demand);
                var verdict = PolicyEvaluator.Evaluate(context.Policy, await FactsOfAsync(db, request, ct));
                items.Add(new InboxItem(RequestWorkflow.Summarize(request, context.Tenant.Name),
                    new Preflight(new Dictionary<string, string[]>(), quota, verdict, request.MonthlyCost,
                        await RequestWorkflow.StageApproverNamesAsync(db, context.Policy, request.CurrentStage, ct))));
            }
        }

        return items;
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

}
