using VirtPortal.Core.Common;

namespace VirtPortal.Core.Requests;

/// <summary>
/// The one table of allowed request transitions. Anything else is refused with a message that says
/// where the request is and what it can still do.
/// </summary>
public static class RequestStateMachine
{
    private static readonly Dictionary<RequestState, RequestState[]> Allowed = new()
    {
        [RequestState.Submitted] = [RequestState.PendingApproval, RequestState.Approved, RequestState.Rejected, RequestState.Cancelled],
        // PendingApproval → PendingApproval moves to the next approval stage.
        [RequestState.PendingApproval] = [RequestState.PendingApproval, RequestState.Approved, RequestState.Rejected, RequestState.Cancelled, RequestState.Expired],
        // Requests that change records only (lease, quota) complete straight from Approved.
        [RequestState.Approved] = [RequestState.Provisioning, RequestState.Completed, RequestState.Failed],
        [RequestState.Provisioning] = [RequestState.Completed, RequestState.Failed],
        [RequestState.Completed] = [],
        [RequestState.Rejected] = [],
        [RequestState.Failed] = [],
        [RequestState.Cancelled] = [],
        [RequestState.Expired] = [],
    };

    public static bool CanMove(RequestState from, RequestState to) => Allowed[from].Contains(to);

    public static IReadOnlyList<RequestState> NextStates(RequestState from) => Allowed[from];

    public static bool IsTerminal(RequestState state) => Allowed[state].Length == 0;

    public static bool IsOpen(RequestState state) => state is RequestState.Submitted or RequestState.PendingApproval;

    public static bool CanCancel(RequestState state) => CanMove(state, RequestState.Cancelled);

    /// <summary>Throws <see cref="PortalValidationException"/> unless <paramref name="from"/> → <paramref name="to"/> is allowed.</summary>
    public static void EnsureCanMove(RequestState from, RequestState to)
    {
        if (CanMove(from, to))
            return;
        var message = IsTerminal(from)
            ? $"The request is already {Describe(from)}; it cannot be {Verb(to)}."
            : $"A request that is {Describe(from)} cannot be {Verb(to)}.";
        throw new PortalValidationException("", message);
    }

    public static string Describe(RequestState state) => state switch
    {
        RequestState.Submitted => "submitted",
        RequestState.PendingApproval => "waiting for approval",
        RequestState.Approved => "approved",
        RequestState.Provisioning => "being provisioned",
        RequestState.Completed => "completed",
        RequestState.Rejected => "rejected",
        RequestState.Failed => "failed",
        RequestState.Cancelled => "cancelled",
        RequestState.Expired => "expired",
        _ => state.ToString(),
    };

    private static string Verb(RequestState to) => to switch
    {
        RequestState.PendingApproval => "sent for approval",
        RequestState.Approved => "approved",
        RequestState.Provisioning => "provisioned",
        RequestState.Completed => "completed",
        RequestState.Rejected => "rejected",
        RequestState.Failed => "marked failed",
        RequestState.Cancelled => "cancelled",
        RequestState.Expired => "expired",
        _ => "moved to " + to,
    };
}
