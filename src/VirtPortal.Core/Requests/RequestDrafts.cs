using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

/// <summary>
/// Drafts and pre-flight: what a request would cost against quota and what the policy says, before it is
/// submitted, and the submission itself (which the policy may approve at once, through <see cref="RequestDecisions"/>).
/// </summary>
public sealed partial class RequestDrafts(
    IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, RequestDecisions decisions, TimeProvider time, LiveUpdates live,
    ILogger<RequestDrafts> logger)
{
    [Requires(Permission.TenantRequest, AccessTargetKind.Tenant)]
    public async Task<Preflight> PreflightAsync(Actor actor, RequestDraft draft, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.TenantRequest, AccessTarget.Tenant(draft.TenantId), "request for tenant", ct);
        var context = await RequestWorkflow.LoadTenantAsync(db, draft.TenantId, ct);
        return (await ResolveAsync(db, context, draft, ct)).Preflight;
    }

    [Requires(Permission.TenantRequest, AccessTargetKind.Tenant)]
    public async Task<Guid> SubmitAsync(Actor actor, RequestDraft draft, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(draft);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var effects = new RequestEffects();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await access.RequireAsync(db, actor, Permission.TenantRequest, AccessTarget.Tenant(draft.TenantId), "request for tenant", ct);
        var context = await RequestWorkflow.LoadTenantAsync(db, draft.TenantId, ct);
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
            RestoreFromBackupId = draft.Kind == RequestKind.NewDatabase ? draft.RestoreFromBackupId : null,
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
        RequestTransitions.AddEvent(db, time, request, actor, null, RequestState.Submitted, $"{RequestWorkflow.Describe(request)} submitted");
        db.Record(time, actor, AuditActions.RequestSubmitted, RequestWorkflow.Target(request), request.TenantId, RequestWorkflow.Describe(request));

        if (preflight.Verdict.AutoApproves)
        {
            await decisions.FinalApproveAsync(db, context, request, RequestWorkflow.PolicyActor, "approved automatically: within the tenant's auto-approval rules", effects, ct);
        }
        else
        {
            await decisions.EnterStageAsync(db, context, request, 1, actor,
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
    [Requires(Permission.TenantRequest, AccessTargetKind.Resource)]
    public async Task<Guid> ExtendLeaseAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        Guid tenantId;
        int days;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Asked first, so that an unknown resource and another tenant's look the same.
            var grant = await access.RequireAsync(db, actor, Permission.TenantRequest, AccessTarget.Resource(resourceId), "extend lease", ct);
            tenantId = grant.TenantId!.Value;
            var policy = await TenantPolicies.LoadAsync(db, tenantId, ct);
            days = Math.Min(policy.AutoApprove && policy.AutoMaxLeaseDays > 0 ? policy.AutoMaxLeaseDays : 30, policy.MaxLeaseDays);
        }

        return await SubmitAsync(actor, new RequestDraft { Kind = RequestKind.ExtendLease, TenantId = tenantId, ResourceId = resourceId, LeaseDays = days }, ct);
    }

    // ---- resolving a draft into facts ---------------------------------------------------------

    private sealed record Resolved(Preflight Preflight, ResourceDemand Demand, string Name);

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
                await CheckNameAsync(db, context.Tenant.Id, name, errors, NameError(name), ct);
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
                // A database's name goes into SQL identifiers on its server: the stricter rule of DatabaseNames.
                await CheckNameAsync(db, context.Tenant.Id, name, errors, Databases.DatabaseNames.Problem(name), ct);
                var offering = draft.OfferingId is { } offeringId ? await db.DatabaseOfferings.AsNoTracking().FirstOrDefaultAsync(o => o.Id == offeringId, ct) : null;
                if (offering is null || !offering.Enabled)
                    errors[nameof(RequestDraft.OfferingId)] = [offering is null ? "Choose a database offering." : $"The offering {offering.Name} is no longer available."];
                CheckLease(draft.LeaseDays, policy, errors);
                if (draft.RestoreFromBackupId is { } backupId)
                {
                    // Only a finished backup of one of this tenant's databases, of the offering's engine.
                    var backup = await db.DatabaseBackups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backupId && b.TenantId == context.Tenant.Id, ct);
                    if (backup is null || backup.State != Databases.DatabaseBackupState.Ready)
                        errors[nameof(RequestDraft.RestoreFromBackupId)] = [backup is null ? "That backup does not exist in this tenant." : $"That backup is {backup.State.ToString().ToLowerInvariant()}, not ready."];
                    else if (offering is not null && backup.Engine != offering.Engine)
                        errors[nameof(RequestDraft.RestoreFromBackupId)] = [$"That backup is of a {backup.Engine} database; {offering.Name} is {offering.Engine}."];
                }

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

        var usage = await RequestWorkflow.UsageAsync(db, context.Tenant.Id, ct);
        var quota = QuotaCheck.For(context.Tenant.Quota, usage, demand);
        var verdict = PolicyEvaluator.Evaluate(policy, facts);
        var approvers = verdict.AutoApproves ? [] : await RequestWorkflow.StageApproverNamesAsync(db, policy, 1, ct);
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

    private static async Task CheckNameAsync(PortalDbContext db, Guid tenantId, string name, Dictionary<string, string[]> errors, string? nameError, CancellationToken ct)
    {
        if (nameError is { } error)
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

    [LoggerMessage(LogLevel.Information, "Request {RequestId} ({Kind}) submitted by {Actor}: now {State}")]
    private partial void LogSubmitted(Guid requestId, RequestKind kind, RequestState state, string actor);
}
