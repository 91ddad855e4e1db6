namespace VirtPortal.Core.Policies;

public enum StageMode
{
    /// <summary>Any one of the stage's approvers decides.</summary>
    AnyOf = 0,

    /// <summary>Every one of the stage's approvers must approve.</summary>
    AllOf = 1,
}

public enum ApprovalTimeoutAction
{
    /// <summary>Admins may then decide too, and are notified.</summary>
    EscalateToAdmins = 0,

    /// <summary>The request expires.</summary>
    Expire = 1,
}

/// <summary>One approval stage; with no named approvers, anyone with the Approver role may decide.</summary>
public sealed class ApprovalStage
{
    public StageMode Mode { get; set; }

    public List<string> ApproverIds { get; set; } = [];
}

/// <summary>A tenant's approval policy. Tenants without a row use <see cref="Default"/>.</summary>
public sealed class TenantPolicy
{
    public Guid TenantId { get; set; }

    /// <summary>Whether small requests approve themselves at all.</summary>
    public bool AutoApprove { get; set; } = true;

    public int AutoMaxVCpus { get; set; } = 4;

    public int AutoMaxRamMiB { get; set; } = 8192;

    public int AutoMaxDiskGiB { get; set; } = 100;

    public int AutoMaxLeaseDays { get; set; } = 30;

    /// <summary>Templates that may auto-approve; empty means all.</summary>
    public List<Guid> AutoTemplateIds { get; set; } = [];

    /// <summary>Database offerings that may auto-approve; empty means all.</summary>
    public List<Guid> AutoOfferingIds { get; set; } = [];

    /// <summary>The longest lease anyone may ask for, approved or not.</summary>
    public int MaxLeaseDays { get; set; } = 365;

    /// <summary>
    /// Starts empty: EF Core adds stored stages to whatever list the constructor made, so a default
    /// stage here would come back from the database in front of the stored ones.
    /// </summary>
    public List<ApprovalStage> Stages { get; set; } = [];

    /// <summary>How long a stage may wait; null waits for ever.</summary>
    public TimeSpan? ApprovalTimeLimit { get; set; } = TimeSpan.FromDays(3);

    public ApprovalTimeoutAction OnTimeout { get; set; }

    public static TenantPolicy Default(Guid tenantId) => new() { TenantId = tenantId, Stages = [new ApprovalStage()] };
}
