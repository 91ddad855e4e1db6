using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Requests;

/// <summary>
/// The one place a request's state changes: the state machine's check, the version live clients
/// follow, the timeline event and the audit entry, all in the caller's change set.
/// </summary>
public static class RequestTransitions
{
    public const int MessageMaxLength = 1000;

    /// <summary>Moves <paramref name="request"/> to <paramref name="to"/>; a terminal state closes it.</summary>
    public static void Move(PortalDbContext db, TimeProvider time, Request request, RequestState to, Actor actor, string message)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        RequestStateMachine.EnsureCanMove(request.State, to);
        var from = request.State;
        request.State = to;
        request.Version++;
        if (RequestStateMachine.IsTerminal(to))
        {
            request.ClosedAt = time.GetUtcNow();
            request.CurrentStage = 0;
            request.ApprovalDeadline = null;
        }

        AddEvent(db, time, request, actor, from, to, message);
        db.Record(time, actor, AuditActions.RequestMovedTo(to), $"request {request.Id}", request.TenantId, message);
    }

    /// <summary>Adds a timeline event (a move, or a step within a state such as one stage's approval).</summary>
    public static void AddEvent(PortalDbContext db, TimeProvider time, Request request, Actor actor, RequestState? from, RequestState to, string message)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(message);
        db.RequestEvents.Add(new RequestEvent
        {
            RequestId = request.Id,
            At = time.GetUtcNow(),
            ActorId = actor.UserId,
            ActorName = actor.Name,
            From = from,
            To = to,
            Message = message.Length > MessageMaxLength ? message[..MessageMaxLength] : message,
        });
    }
}
