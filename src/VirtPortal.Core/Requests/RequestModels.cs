using VirtPortal.Core.Policies;
using VirtPortal.Core.Tenancy;

namespace VirtPortal.Core.Requests;

/// <summary>What a tenant member fills in. Which fields matter depends on <see cref="Kind"/>.</summary>
public sealed record RequestDraft
{
    public RequestKind Kind { get; init; }

    public Guid TenantId { get; init; }

    public string Name { get; init; } = "";

    public Guid? TemplateId { get; init; }

    public Guid? SizeId { get; init; }

    public Guid? OfferingId { get; init; }

    /// <summary>For a new database: a backup of one of the tenant's databases to restore into it.</summary>
    public Guid? RestoreFromBackupId { get; init; }

    /// <summary>Lease of a new resource, or the extension of an existing one, in days.</summary>
    public int LeaseDays { get; init; }

    /// <summary>The VM to resize or the resource whose lease to extend.</summary>
    public Guid? ResourceId { get; init; }

    public TenantQuota? RequestedQuota { get; init; }

    public string Justification { get; init; } = "";
}

/// <summary>
/// Everything the form shows beside the draft before it is submitted (and the approver sees before
/// deciding): field errors, quota usage before and after, the policy verdict, and the monthly cost.
/// </summary>
public sealed record Preflight(
    IReadOnlyDictionary<string, string[]> Errors,
    QuotaCheck Quota,
    PolicyVerdict Verdict,
    decimal MonthlyCost,
    IReadOnlyList<string> ApproverNames)
{
    public bool CanSubmit => Errors.Count == 0 && Quota.Fits && Verdict.Violations.Count == 0;

    /// <summary>Why submit is disabled, naming each field's problem (a field not yet touched is not red); null when it is not.</summary>
    public string? BlockedReason =>
        Errors.Count > 0 ? "Fix first: " + string.Join(" ", Errors.Values.Select(messages => messages[0]))
        : !Quota.Fits ? "This request does not fit the tenant's quota: " + Quota.Describe() + "."
        : Verdict.Violations.Count > 0 ? Verdict.Violations[0]
        : null;
}

public sealed record RequestSummary(
    Guid Id, Guid TenantId, string TenantName, RequestKind Kind, RequestState State, string Name, string RequesterName,
    DateTimeOffset SubmittedAt, int CurrentStage, int StageCount, bool Escalated, decimal MonthlyCost, string? Reason, long Version);

public sealed record RequestTimelineEntry(DateTimeOffset At, string ActorName, RequestState? From, RequestState To, string Message);

/// <summary>
/// A request as one viewer may see it. <see cref="FailureDetail"/> (a provisioning failure in the host's
/// own words) is filled for admins and helpdesk only; everyone else reads the plain sentence in the summary's reason.
/// </summary>
public sealed record RequestDetails(
    RequestSummary Request, ResourceDemand Demand, TenantQuota? RequestedQuota, int LeaseDays, string Justification,
    Guid? ResourceId, IReadOnlyList<RequestTimelineEntry> Timeline, bool CanCancel, bool CanDecide, string? FailureDetail = null);

/// <summary>A pending request in an approver's inbox, with the facts as they would stand after approval.</summary>
public sealed record InboxItem(RequestSummary Request, Preflight FactsAfterApproval);

/// <summary>The outcome of one request in a bulk approval.</summary>
public sealed record BulkOutcome(Guid RequestId, bool Approved, string? Error);
