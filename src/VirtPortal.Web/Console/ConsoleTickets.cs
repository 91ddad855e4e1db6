using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Common;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Console;

/// <summary>
/// What the VM page gets when it asks to open a console: a ticket for <see cref="ConsoleProxy.Route"/>
/// (single use, until <see cref="ExpiresAt"/>), or, when the VM has no console now, no ticket and a
/// plain sentence in <see cref="Unavailable"/>. <see cref="ViewOnly"/>: the proxy drops the user's
/// keyboard, mouse and clipboard input.
/// </summary>
public sealed record ConsoleOffer(string? Ticket, DateTimeOffset? ExpiresAt, bool ViewOnly, string? Unavailable);

/// <summary>Why a presented ticket was refused, in the audit log's words.</summary>
public enum TicketRefusal
{
    None,
    Missing,
    Unknown,
    Reused,
    Expired,
    OtherUser,
    OtherSession,
    OtherVm,
}

/// <summary>A ticket that was good: for whom and how.</summary>
public sealed record RedeemedTicket(string UserId, Guid ResourceId, bool ViewOnly);

/// <summary>
/// Console tickets: 32 random bytes (base64url), issued only to users whom the access service lets open
/// the VM's console, valid <see cref="ConsoleOptions.TicketLifetime"/>, good once, and bound to the user,
/// the VM and the sign-in session (<see cref="PortalClaimsPrincipalFactory.SessionClaim"/>). Kept in memory
/// under their SHA-256 only; a ticket's hash stays one lifetime past its expiry, so a second or late try
/// is told apart from a made-up ticket. Tickets are never logged.
/// </summary>
public sealed partial class ConsoleTickets(
    PortalAccess access, ConsoleLocator locator, ConsoleSessions sessions, IOptions<ConsoleOptions> options, TimeProvider time, ILogger<ConsoleTickets> logger)
{
    /// <summary>The websocket subprotocol prefix the ticket travels in: <c>vp-ticket.{ticket}</c>.</summary>
    public const string SubprotocolPrefix = "vp-ticket.";

    /// <summary>Unredeemed tickets one user may hold; issuing more forgets their oldest.</summary>
    private const int MaxOutstandingPerUser = 10;

    private readonly ConcurrentDictionary<string, Issued> issued = new(StringComparer.Ordinal);

    /// <summary>
    /// A ticket for the VM's console: full control with <see cref="Permission.ResourceConsole"/>, else
    /// view-only with <see cref="Permission.ResourceConsoleViewOnly"/>; otherwise the refusal is audited and
    /// <see cref="PortalAccessDeniedException"/> thrown (an unknown VM looks the same).
    /// </summary>
    public async Task<ConsoleOffer> OfferAsync(ClaimsPrincipal user, Guid resourceId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(user);
        var actor = ActorAccessor.FromPrincipal(user) ?? throw new PortalAccessDeniedException("Sign in first.");
        var viewOnly = !await access.AllowsAsync(actor, Permission.ResourceConsole, AccessTarget.Resource(resourceId), ct);
        if (viewOnly)
            await access.RequireAsync(actor, Permission.ResourceConsoleViewOnly, AccessTarget.Resource(resourceId), "open the console", ct);

        if (PortalClaimsPrincipalFactory.SessionOf(user) is not { } session)
            return new ConsoleOffer(null, null, viewOnly, "Sign out and in again to open the console.");
        var location = await locator.LocateAsync(resourceId, ct);
        if (location.Unavailable is { } why)
            return new ConsoleOffer(null, null, viewOnly, why);
        // The proxy enforces the limit at the handshake; saying it here lets the page tell the user why.
        if (sessions.Of(actor.UserId).Count >= options.Value.MaxSessionsPerUser)
            return new ConsoleOffer(null, null, viewOnly,
                $"You have {options.Value.MaxSessionsPerUser} console sessions open already, the most one user may have: close one to open another.");

        Prune();
        var ticket = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var expiresAt = time.GetUtcNow() + ConsoleOptions.TicketLifetime;
        issued[Hash(ticket)] = new Issued(actor.UserId, session, resourceId, viewOnly, expiresAt);
        ForgetOldest(actor.UserId);
        LogIssued(actor.Name, resourceId, viewOnly);
        return new ConsoleOffer(ticket, expiresAt, viewOnly, null);
    }

    /// <summary>
    /// Spends the ticket whatever the outcome (one seen with the wrong user or VM is burnt too) and says
    /// whether it was good for this user's sign-in session and this VM now.
    /// </summary>
    public (RedeemedTicket? Ticket, TicketRefusal Refusal) Redeem(string? ticket, ClaimsPrincipal user, Guid resourceId)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(ticket))
            return (null, TicketRefusal.Missing);
        var key = Hash(ticket);
        var now = time.GetUtcNow();
        while (issued.TryGetValue(key, out var entry))
        {
            if (entry.Redeemed)
                return (null, now < entry.ExpiresAt ? TicketRefusal.Reused : TicketRefusal.Expired);
            if (!issued.TryUpdate(key, entry with { Redeemed = true }, entry))
                continue;
            if (now >= entry.ExpiresAt)
                return (null, TicketRefusal.Expired);
            if (user.FindFirstValue(ClaimTypes.NameIdentifier) != entry.UserId)
                return (null, TicketRefusal.OtherUser);
            if (PortalClaimsPrincipalFactory.SessionOf(user) != entry.Session)
                return (null, TicketRefusal.OtherSession);
            if (resourceId != entry.ResourceId)
                return (null, TicketRefusal.OtherVm);
            return (new RedeemedTicket(entry.UserId, entry.ResourceId, entry.ViewOnly), TicketRefusal.None);
        }

        return (null, TicketRefusal.Unknown);
    }

    /// <summary>The audit log's words for a refusal.</summary>
    public static string Words(TicketRefusal refusal) => refusal switch
    {
        TicketRefusal.Missing => "no ticket",
        TicketRefusal.Unknown => "unknown ticket",
        TicketRefusal.Reused => "ticket already used",
        TicketRefusal.Expired => "ticket expired",
        TicketRefusal.OtherUser => "ticket of another user",
        TicketRefusal.OtherSession => "ticket of another sign-in session",
        TicketRefusal.OtherVm => "ticket for another VM",
        _ => "",
    };

    /// <summary>Drops tickets one lifetime after they expired (until then a late try is told "expired", not "unknown").</summary>
    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in issued)
        {
            if (now >= entry.ExpiresAt + ConsoleOptions.TicketLifetime)
                issued.TryRemove(key, out _);
        }
    }

    private void ForgetOldest(string userId)
    {
        var outstanding = issued.Where(e => e.Value.UserId == userId && !e.Value.Redeemed).OrderBy(e => e.Value.ExpiresAt).ToList();
        foreach (var (key, _) in outstanding.Take(Math.Max(0, outstanding.Count - MaxOutstandingPerUser)))
            issued.TryRemove(key, out _);
    }

    private static string Hash(string ticket) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ticket)));

    private sealed record Issued(string UserId, string Session, Guid ResourceId, bool ViewOnly, DateTimeOffset ExpiresAt, bool Redeemed = false);

    [LoggerMessage(LogLevel.Information, "Console ticket issued to {Actor} for VM {VmId} (view-only: {ViewOnly})")]
    private partial void LogIssued(string actor, Guid vmId, bool viewOnly);
}
