using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Policies;

public sealed record ApproverOption(string UserId, string Label);

/// <summary>A tenant's approval policy: readable by staff and the tenant's members, editable by admins.</summary>
public sealed class PolicyService(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time)
{
    public const int MaxStages = 5;

    /// <summary>The policy in force for the tenant (<see cref="TenantPolicies.LoadAsync"/>).</summary>
    [Requires(Permission.TenantView, AccessTargetKind.Tenant)]
    public async Task<TenantPolicy> GetAsync(Actor actor, Guid tenantId, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.TenantView, AccessTarget.Tenant(tenantId), "view policy", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await TenantPolicies.LoadAsync(db, tenantId, ct);
    }

    /// <summary>Users who can be named in an approval stage: approvers and admins. For those who edit policies.</summary>
    [Requires(Permission.TenantAdminister)]
    public async Task<IReadOnlyList<ApproverOption>> ApproverOptionsAsync(Actor actor, CancellationToken ct = default)
    {
        await access.RequireAsync(actor, Permission.TenantAdminister, AccessTarget.Portal, "list approvers", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ApproverOptionsAsync(db, ct);
    }

    private static async Task<IReadOnlyList<ApproverOption>> ApproverOptionsAsync(PortalDbContext db, CancellationToken ct)
    {
        var ids = await (from ur in db.UserRoles
                         join r in db.Roles on ur.RoleId equals r.Id
                         where r.Name == GlobalRoles.Approver || r.Name == GlobalRoles.Admin
                         select ur.UserId).Distinct().ToListAsync(ct);
        var users = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToListAsync(ct);
        return [.. users.Select(u => new ApproverOption(u.Id, u.Label)).OrderBy(o => o.Label, StringComparer.OrdinalIgnoreCase)];
    }

    [Requires(Permission.TenantAdminister, AccessTargetKind.Tenant)]
    public Task SaveAsync(Actor actor, Guid tenantId, TenantPolicy policy, CancellationToken ct = default) =>
        SaveAsync(actor, tenantId, policy, expectedVersion: null, ct);

    /// <summary>The same, only while the tenant is at <paramref name="expectedVersion"/> (the API's If-Match) when one is given; saving bumps the tenant's version.</summary>
    [Requires(Permission.TenantAdminister, AccessTargetKind.Tenant)]
    public async Task SaveAsync(Actor actor, Guid tenantId, TenantPolicy policy, long? expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(policy);
        await access.RequireAsync(actor, Permission.TenantAdminister, AccessTarget.Tenant(tenantId), "edit policy", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var approvers = (await ApproverOptionsAsync(db, ct)).Select(a => a.UserId).ToHashSet();
        Validate(policy, approvers);

        var tenant = await db.Tenants.FirstAsync(t => t.Id == tenantId, ct);
        TenantRules.RequireVersion(tenant, expectedVersion);
        tenant.Version++;
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
        await TenantRules.SaveVersionedAsync(() => db.SaveChangesAsync(ct));
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
}
