using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;

namespace VirtPortal.Core.Policies;

/// <summary>The one place a tenant's approval policy is read, as it is in force.</summary>
public static class TenantPolicies
{
    /// <summary>
    /// The tenant's stored policy, or the default one. A stored policy without stages still needs
    /// someone to decide: any approver, as by default. Not tracked: a change goes through PolicyService.
    /// </summary>
    public static async Task<TenantPolicy> LoadAsync(PortalDbContext db, Guid tenantId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var policy = await db.TenantPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.TenantId == tenantId, ct) ?? TenantPolicy.Default(tenantId);
        if (policy.Stages.Count == 0)
            policy.Stages.Add(new ApprovalStage());
        return policy;
    }

    /// <summary>The policy's stage <paramref name="stage"/> (1-based), or null when it has no such stage.</summary>
    public static ApprovalStage? Stage(TenantPolicy policy, int stage)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return stage >= 1 && stage <= policy.Stages.Count ? policy.Stages[stage - 1] : null;
    }
}
