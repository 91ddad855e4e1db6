using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tenancy;

/// <summary>The one place a tenant's quota changes, with its audit entry, whether an admin set it or a request raised it.</summary>
public static class TenantQuotas
{
    /// <summary>Sets the quota and records the change; <paramref name="how"/> is appended to the audit entry ("by request").</summary>
    public static void Change(PortalDbContext db, TimeProvider time, Actor actor, Tenant tenant, TenantQuota quota, string how = "")
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(quota);
        if (tenant.Quota == quota)
            return;
        db.Record(time, actor, AuditActions.QuotaChanged, $"tenant {tenant.Name}", tenant.Id,
            $"from {Describe(tenant.Quota)} to {Describe(quota)}{(how.Length > 0 ? " " + how : "")}");
        tenant.Quota = quota;
    }

    public static string Describe(TenantQuota q)
    {
        ArgumentNullException.ThrowIfNull(q);
        return $"{q.VCpus} vCPU, {q.RamMiB} MiB RAM, {q.DiskGiB} GiB disk, {q.Vms} VMs, {q.Databases} databases";
    }
}
