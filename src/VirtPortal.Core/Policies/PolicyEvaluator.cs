using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Policies;

/// <summary>The facts of a request that policies look at.</summary>
public sealed record PolicyFacts(
    RequestKind Kind, int VCpus, int RamMiB, int DiskGiB, int LeaseDays,
    Guid? TemplateId = null, Guid? OfferingId = null, bool IsFirstExtension = false);

/// <summary>
/// What the policy says before anyone decides: whether the request approves itself and, if not, who must
/// approve and every rule that makes it so.
/// </summary>
public sealed record PolicyVerdict(bool AutoApproves, IReadOnlyList<string> Reasons, IReadOnlyList<ApprovalStage> Stages)
{
    /// <summary>Reasons that forbid the request outright (not even approvers can allow it).</summary>
    public IReadOnlyList<string> Violations { get; init; } = [];
}

public static class PolicyEvaluator
{
    public static PolicyVerdict Evaluate(TenantPolicy policy, PolicyFacts facts)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(facts);
        var violations = new List<string>();
        if (facts.Kind is RequestKind.NewVm or RequestKind.NewDatabase or RequestKind.ExtendLease)
        {
            if (facts.LeaseDays < 1)
                violations.Add("A lease is at least 1 day.");
            else if (facts.LeaseDays > policy.MaxLeaseDays)
                violations.Add($"A lease of {facts.LeaseDays} days is longer than this tenant's maximum of {policy.MaxLeaseDays} days.");
        }

        var reasons = new List<string>();
        if (!policy.AutoApprove)
            reasons.Add("this tenant approves every request by hand");
        switch (facts.Kind)
        {
            case RequestKind.QuotaIncrease:
                reasons.Add("quota increases are always decided by an approver");
                break;
            case RequestKind.ExtendLease:
                if (!facts.IsFirstExtension)
                    reasons.Add("only the first lease extension approves itself");
                CheckLease(policy, facts, reasons);
                break;
            default:
                if (facts.VCpus > policy.AutoMaxVCpus)
                    reasons.Add($"{facts.VCpus} vCPUs is over the auto-approval limit of {policy.AutoMaxVCpus}");
                if (facts.RamMiB > policy.AutoMaxRamMiB)
                    reasons.Add($"{facts.RamMiB} MiB of RAM is over the auto-approval limit of {policy.AutoMaxRamMiB} MiB");
                if (facts.DiskGiB > policy.AutoMaxDiskGiB)
                    reasons.Add($"{facts.DiskGiB} GiB of disk is over the auto-approval limit of {policy.AutoMaxDiskGiB} GiB");
                if (facts.Kind != RequestKind.ResizeVm)
                    CheckLease(policy, facts, reasons);
                if (facts.TemplateId is { } template && policy.AutoTemplateIds.Count > 0 && !policy.AutoTemplateIds.Contains(template))
                    reasons.Add("this template is not on the auto-approval list");
                if (facts.OfferingId is { } offering && policy.AutoOfferingIds.Count > 0 && !policy.AutoOfferingIds.Contains(offering))
                    reasons.Add("this database offering is not on the auto-approval list");
                break;
        }

        return new PolicyVerdict(reasons.Count == 0 && violations.Count == 0, reasons, policy.Stages) { Violations = violations };
    }

    private static void CheckLease(TenantPolicy policy, PolicyFacts facts, List<string> reasons)
    {
        if (facts.LeaseDays > policy.AutoMaxLeaseDays)
            reasons.Add($"a lease of {facts.LeaseDays} days is over the auto-approval limit of {policy.AutoMaxLeaseDays} days");
    }
}
