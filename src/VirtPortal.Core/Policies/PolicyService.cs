using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Policies;

public sealed record ApproverOption(string UserId, string Label);

/// <summary>A tenant's approval policy: readable by staff and the tenant's members, editable by admins.</summary>
public sealed class PolicyService(IDbContextFactory<PortalDbContext> dbFactory, TenantService tenants, TimeProvider time)
{
    public const int MaxStages = 5;

    public async Task<TenantPolicy> GetAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        if (!await tenants.IsAllowedAsync(actor, tenantId, TenantPermission.View, ct))
            await DenyAsync(actor, tenantId, "view policy", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.TenantPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.TenantId == tenantId, ct) ?? TenantPolicy.Default(tenantId);
    }

    /// <summary>Users who can be named in an approval stage: approvers and admins.</summary>
    public async Task<IReadOnlyList<ApproverOption>> ApproverOptionsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await (from ur in db.UserRoles
                         join r in db.Roles on ur.RoleId equals r.Id
                         where r.Name == GlobalRoles.Approver || r.Name == GlobalRoles.Admin
                         select ur.UserId).Distinct().ToListAsync(ct);
        var users = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToListAsync(ct);
        return [.. users.Select(u => new ApproverOption(u.Id, u.Label)).OrderBy(o => o.Label, StringComparer.OrdinalIgnoreCase)];
    }

    public async Task SaveAsync(Actor actor, Guid tenantId, TenantPolicy policy, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(policy);
        if (!actor.IsAdmin)
            await DenyAsync(actor, tenantId, "edit policy", ct);
        var approvers = (await ApproverOptionsAsync(ct)).Select(a => a.UserId).ToHashSet();
        Validate(policy, approvers);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == tenantId, ct) ?? throw new PortalNotFoundException("That tenant does not exist.");
        var existing = await db.TenantPolicies.FirstOrDefaultAsync(p => p.TenantId == tenantId, ct);
        if (existing is null)
        {
            existing = new TenantPolicy { TenantId = tenantId };
            db.TenantPolicies.Add(existing);
        }

        existing.AutoApprove = policy.AutoApprove;
        existing.AutoMaxVCpus = policy.AutoMaxVCpus;
        existing.AutoMaxRamMiB = policy.AutoMaxRamMiB;
        existing.AutoMaxDiskGiB = policy.AutoMaxDiskGiB;
        existing.AutoMaxLeaseDays = policy.AutoMaxLeaseDays;
        existing.AutoTemplateIds = [.. policy.AutoTemplateIds.Distinct()];
        existing.AutoOfferingIds = [.. policy.AutoOfferingIds.Distinct()];
        existing.MaxLeaseDays = policy.MaxLeaseDays;
        existing.Stages = [.. policy.Stages.Select(s => new ApprovalStage { Mode = s.Mode, ApproverIds = [.. s.ApproverIds.Distinct()] })];
        existing.ApprovalTimeLimit = policy.ApprovalTimeLimit;
        existing.OnTimeout = policy.OnTimeout;
        db.Record(time, actor, AuditActions.PolicyChanged, $"tenant {tenant.Name}", tenantId,
            $"auto-approve {(policy.AutoApprove ? $"up to {policy.AutoMaxVCpus} vCPU, {policy.AutoMaxRamMiB} MiB, {policy.AutoMaxDiskGiB} GiB, {policy.AutoMaxLeaseDays} days" : "off")}; {policy.Stages.Count} stage(s); max lease {policy.MaxLeaseDays} days");
        await db.SaveChangesAsync(ct);
    }

    public static void Validate(TenantPolicy policy, IReadOnlySet<string> approverIds)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(approverIds);
        var errors = new Dictionary<string, string[]>();
        Range(nameof(TenantPolicy.AutoMaxVCpus), policy.AutoMaxVCpus, 0, TenantRules.MaxVCpus);
        Range(nameof(TenantPolicy.AutoMaxRamMiB), policy.AutoMaxRamMiB, 0, TenantRules.MaxRamMiB);
        Range(nameof(TenantPolicy.AutoMaxDiskGiB), policy.AutoMaxDiskGiB, 0, TenantRules.MaxDiskGiB);
        Range(nameof(TenantPolicy.MaxLeaseDays), policy.MaxLeaseDays, 1, 3650);
        Range(nameof(TenantPolicy.AutoMaxLeaseDays), policy.AutoMaxLeaseDays, 0, 3650);
        if (!errors.ContainsKey(nameof(TenantPolicy.AutoMaxLeaseDays)) && policy.AutoMaxLeaseDays > policy.MaxLeaseDays)
            errors[nameof(TenantPolicy.AutoMaxLeaseDays)] = [$"Cannot exceed the maximum lease of {policy.MaxLeaseDays} days."];
        if (policy.Stages.Count is < 1 or > MaxStages)
            errors[nameof(TenantPolicy.Stages)] = [$"A policy has 1 to {MaxStages} approval stages."];
        for (var i = 0; i < policy.Stages.Count; i++)
        {
            var stage = policy.Stages[i];
            if (stage.Mode == StageMode.AllOf && stage.ApproverIds.Count == 0)
                errors[$"Stages[{i}]"] = [$"Stage {i + 1}: \"all of\" needs named approvers."];
            else if (stage.ApproverIds.FirstOrDefault(id => !approverIds.Contains(id)) is not null)
                errors[$"Stages[{i}]"] = [$"Stage {i + 1}: every named approver must have the Approver or Admin role."];
        }

        if (policy.ApprovalTimeLimit is { } limit && (limit < TimeSpan.FromHours(1) || limit > TimeSpan.FromDays(90)))
            errors[nameof(TenantPolicy.ApprovalTimeLimit)] = ["Between 1 hour and 90 days, or none."];
        if (errors.Count > 0)
            throw new PortalValidationException(errors);

        void Range(string field, int value, int min, int max)
        {
            if (value < min || value > max)
                errors[field] = [$"Between {min} and {max:N0}."];
        }
    }

    private async Task DenyAsync(Actor actor, Guid tenantId, string what, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Record(time, actor, AuditActions.AccessDenied, $"tenant {tenantId}", null, what);
        await db.SaveChangesAsync(ct);
        throw new PortalAccessDeniedException();
    }
}
