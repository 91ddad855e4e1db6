using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Requests;

/// <summary>One quota dimension: what is used, the limit, and what would be used after a request.</summary>
public sealed record QuotaLine(string Dimension, string Unit, int Used, int Limit, int Requested)
{
    public int After => Used + Requested;

    public int LeftAfter => Limit - After;

    /// <summary>Exactly at the limit still fits.</summary>
    public bool Fits => Requested <= 0 || After <= Limit;
}

public sealed record QuotaCheck(IReadOnlyList<QuotaLine> Lines)
{
    public bool Fits => Lines.All(l => l.Fits);

    public IEnumerable<QuotaLine> Exceeded => Lines.Where(l => !l.Fits);

    public static QuotaCheck For(TenantQuota quota, ResourceDemand used, ResourceDemand requested)
    {
        ArgumentNullException.ThrowIfNull(quota);
        ArgumentNullException.ThrowIfNull(used);
        ArgumentNullException.ThrowIfNull(requested);
        return new QuotaCheck(
        [
            new("vCPUs", "", used.VCpus, quota.VCpus, requested.VCpus),
            new("RAM", "MiB", used.RamMiB, quota.RamMiB, requested.RamMiB),
            new("Disk", "GiB", used.DiskGiB, quota.DiskGiB, requested.DiskGiB),
            new("VMs", "", used.Vms, quota.Vms, requested.Vms),
            new("Databases", "", used.Databases, quota.Databases, requested.Databases),
        ]);
    }

    public string Describe() => string.Join("; ", Exceeded.Select(l =>
        $"{l.Dimension}: {l.Used} used + {l.Requested} requested = {l.After}{(l.Unit.Length > 0 ? " " + l.Unit : "")}, over the quota of {l.Limit}"));
}
