using System.Net.WebSockets;
using System.Security.Claims;
using VirtPortal.Core.Users;

namespace VirtPortal.Web.Console;

/// <summary>Why a console session ended, with what the browser is told in the websocket close frame.</summary>
public enum ConsoleEndReason
{
    BrowserClosed,
    VmClosed,
    Idle,
    SignInInvalid,
    AccessLost,
    ProtocolError,
    PortalStopping,
    Failed,
}

/// <summary>One open console: who, which VM, how, and the bytes and input it carried.</summary>
public sealed class ConsoleSession(Actor actor, ClaimsPrincipal principal, Guid resourceId, Guid? tenantId, string vmName, bool viewOnly, DateTimeOffset startedAt)
{
    private readonly TaskCompletionSource<ConsoleEndReason> ending = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long bytesFromBrowser;
    private long bytesToBrowser;
    private long lastInputTicks = startedAt.UtcTicks;

    public Guid Id { get; } = Guid.NewGuid();

    public Actor Actor { get; } = actor;

    /// <summary>The sign-in the session was opened with, checked again by revalidation.</summary>
    public ClaimsPrincipal Principal { get; } = principal;

    public Guid ResourceId { get; } = resourceId;

    public Guid? TenantId { get; } = tenantId;

    public string VmName { get; } = vmName;

    public DateTimeOffset StartedAt { get; } = startedAt;

    public RfbClientFilter Filter { get; } = new(viewOnly);

    public long BytesFromBrowser => Interlocked.Read(ref bytesFromBrowser);

    public long BytesToBrowser => Interlocked.Read(ref bytesToBrowser);

    public DateTimeOffset LastInputAt => new(Interlocked.Read(ref lastInputTicks), TimeSpan.Zero);

    /// <summary>Completes with the first reason the portal (not the relay) gave to end the session.</summary>
    public Task<ConsoleEndReason> Ending => ending.Task;

    public void End(ConsoleEndReason reason) => ending.TrySetResult(reason);

    public void CountFromBrowser(int bytes) => Interlocked.Add(ref bytesFromBrowser, bytes);

    public void CountToBrowser(int bytes) => Interlocked.Add(ref bytesToBrowser, bytes);

    public void Touch(DateTimeOffset at) => Interlocked.Exchange(ref lastInputTicks, at.UtcTicks);

    /// <summary>The websocket close status and text the browser gets for <paramref name="reason"/>.</summary>
    public static (WebSocketCloseStatus Status, string Description) CloseFor(ConsoleEndReason reason, TimeSpan idleTimeout) => reason switch
    {
        ConsoleEndReason.BrowserClosed => (WebSocketCloseStatus.NormalClosure, ""),
        ConsoleEndReason.VmClosed => (WebSocketCloseStatus.NormalClosure, "The VM's console closed."),
        ConsoleEndReason.Idle => ((WebSocketCloseStatus)4000, $"Closed after {Words(idleTimeout)} without input."),
        ConsoleEndReason.SignInInvalid => ((WebSocketCloseStatus)4001, "Your sign-in is no longer valid."),
        ConsoleEndReason.AccessLost => ((WebSocketCloseStatus)4003, "You may no longer open this console."),
        ConsoleEndReason.ProtocolError => (WebSocketCloseStatus.PolicyViolation, "The console sent a message the portal does not accept."),
        ConsoleEndReason.PortalStopping => (WebSocketCloseStatus.EndpointUnavailable, "The portal is restarting."),
        _ => (WebSocketCloseStatus.InternalServerError, "The console connection failed."),
    };

    /// <summary>The audit log's words for <paramref name="reason"/>.</summary>
    public static string Words(ConsoleEndReason reason) => reason switch
    {
        ConsoleEndReason.BrowserClosed => "closed by the browser",
        ConsoleEndReason.VmClosed => "closed by the VM's console",
        ConsoleEndReason.Idle => "idle",
        ConsoleEndReason.SignInInvalid => "sign-in no longer valid (locked out, deleted or changed)",
        ConsoleEndReason.AccessLost => "access to the console lost",
        ConsoleEndReason.ProtocolError => "the browser sent an RFB message the proxy does not accept",
        ConsoleEndReason.PortalStopping => "the portal stopped",
        _ => "the relay failed",
    };

    private static string Words(TimeSpan span) =>
        span.TotalMinutes >= 1 && span.Seconds == 0 ? $"{span.TotalMinutes:0} minute{(span.TotalMinutes == 1 ? "" : "s")}" : $"{span.TotalSeconds:0} seconds";
}
