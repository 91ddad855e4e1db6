using VirtPortal.Core.Common;
using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Tests.Requests;

public sealed class RequestStateMachineTests
{
    // Written out here rather than read from the machine, so a change to its table fails a test.
    private static readonly HashSet<(RequestState From, RequestState To)> Expected =
    [
        (RequestState.Submitted, RequestState.PendingApproval),
        (RequestState.Submitted, RequestState.Approved),
        (RequestState.Submitted, RequestState.Rejected),
        (RequestState.Submitted, RequestState.Cancelled),
        (RequestState.PendingApproval, RequestState.PendingApproval),
        (RequestState.PendingApproval, RequestState.Approved),
        (RequestState.PendingApproval, RequestState.Rejected),
        (RequestState.PendingApproval, RequestState.Cancelled),
        (RequestState.PendingApproval, RequestState.Expired),
        (RequestState.Approved, RequestState.Provisioning),
        (RequestState.Approved, RequestState.Completed),
        (RequestState.Approved, RequestState.Failed),
        (RequestState.Provisioning, RequestState.Completed),
        (RequestState.Provisioning, RequestState.Failed),
    ];

    private static readonly Dictionary<RequestState, string> Words = new()
    {
        [RequestState.Submitted] = "submitted",
        [RequestState.PendingApproval] = "waiting for approval",
        [RequestState.Approved] = "approved",
        [RequestState.Provisioning] = "being provisioned",
        [RequestState.Completed] = "completed",
        [RequestState.Rejected] = "rejected",
        [RequestState.Failed] = "failed",
        [RequestState.Cancelled] = "cancelled",
        [RequestState.Expired] = "expired",
    };

    public static TheoryData<RequestState, RequestState> AllowedMoves => [.. Expected];

    public static TheoryData<RequestState, RequestState> RefusedMoves =>
    [
        .. from f in Enum.GetValues<RequestState>()
           from t in Enum.GetValues<RequestState>()
           where !Expected.Contains((f, t))
           select (f, t),
    ];

    public static TheoryData<RequestState> TerminalStates =>
        [RequestState.Completed, RequestState.Rejected, RequestState.Failed, RequestState.Cancelled, RequestState.Expired];

    public static TheoryData<RequestState> AllStates => [.. Enum.GetValues<RequestState>()];

    [Theory]
    [MemberData(nameof(AllowedMoves))]
    public void Allowed_move_is_allowed_and_ensure_does_not_throw(RequestState from, RequestState to)
    {
        var allowed = RequestStateMachine.CanMove(from, to);

        Assert.True(allowed);
        RequestStateMachine.EnsureCanMove(from, to);
    }

    [Theory]
    [MemberData(nameof(RefusedMoves))]
    public void Any_other_move_is_refused_with_a_message_naming_the_current_state(RequestState from, RequestState to)
    {
        var allowed = RequestStateMachine.CanMove(from, to);
        var error = Assert.Throws<PortalValidationException>(() => RequestStateMachine.EnsureCanMove(from, to));

        Assert.False(allowed);
        Assert.Contains(Words[from], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Allowed_and_refused_moves_together_cover_every_pair_of_states()
    {
        var count = AllowedMoves.Count + RefusedMoves.Count;

        Assert.Equal(Enum.GetValues<RequestState>().Length * Enum.GetValues<RequestState>().Length, count);
    }

    [Theory]
    [MemberData(nameof(TerminalStates))]
    public void Terminal_state_allows_no_move_at_all(RequestState state)
    {
        var next = RequestStateMachine.NextStates(state);

        Assert.True(RequestStateMachine.IsTerminal(state));
        Assert.Empty(next);
    }

    [Theory]
    [MemberData(nameof(AllStates))]
    public void Only_submitted_and_pending_requests_can_be_cancelled(RequestState state)
    {
        var canCancel = RequestStateMachine.CanCancel(state);

        Assert.Equal(state is RequestState.Submitted or RequestState.PendingApproval, canCancel);
    }
}
