using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Users;
using VirtPortal.Web.Hubs;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Console;

/// <summary>
/// The console websocket at <see cref="Route"/>: the browser's noVNC offers the subprotocols
/// <c>binary</c> and <c>vp-ticket.{ticket}</c> (so the ticket never travels in a URL), and the proxy relays
/// RFB between it and the VM's VNC server. Before the upgrade it checks the Origin, the signed-in user,
/// the ticket (theirs, this sign-in's, this VM's, unused, unexpired), access, the VM's console and the
/// per-user limit; each refusal is a bare 4xx and an audit entry. docs/decisions/0011-console-proxy.md.
/// </summary>
public sealed partial class ConsoleProxy(
    ConsoleTickets tickets, ConsoleSessions sessions, ConsoleLocator locator, PortalAccess access, TrustedOrigins origins,
    IDbContextFactory<PortalDbContext> dbFactory, IOptions<ConsoleOptions> options, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<ConsoleProxy> logger)
{
    public const string Route = "/console/{resourceId:guid}";

    /// <summary>The subprotocol the proxy accepts, as QEMU's websocket does.</summary>
    public const string Subprotocol = "binary";

    private const int BufferSize = 64 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var resourceId = Guid.Parse((string)context.GetRouteValue("resourceId")!, CultureInfo.InvariantCulture);
        var ct = context.RequestAborted;
        // A script opens the console with its API token (decision 0012: a request that carries one is the token's).
        var token = await context.AuthenticateAsync(ApiTokenDefaults.Scheme);
        if (!token.None)
            context.User = token.Principal ?? new System.Security.Claims.ClaimsPrincipal();
        if (ActorAccessor.FromPrincipal(context.User) is not { } actor)
        {
            LogAnonymous(resourceId);
            Status(context, StatusCodes.Status401Unauthorized);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, actor, resourceId, StatusCodes.Status400BadRequest, "not a websocket request");
            return;
        }

        if (!origins.Allows(context.Request, out var origin))
        {
            await RefuseAsync(context, actor, resourceId, StatusCodes.Status403Forbidden, $"foreign origin {origin}");
            return;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var ticket = offered.FirstOrDefault(p => p.StartsWith(ConsoleTickets.SubprotocolPrefix, StringComparison.Ordinal))?[ConsoleTickets.SubprotocolPrefix.Length..];
        var (redeemed, refusal) = tickets.Redeem(ticket, context.User, resourceId);
        if (redeemed is null)
        {
            await RefuseAsync(context, actor, resourceId, StatusCodes.Status403Forbidden, ConsoleTickets.Words(refusal));
            return;
        }

        if (!offered.Contains(Subprotocol, StringComparer.Ordinal))
        {
            await RefuseAsync(context, actor, resourceId, StatusCodes.Status400BadRequest, $"the subprotocol {Subprotocol} was not offered");
            return;
        }

        // Access is asked again: the ticket may be up to a minute old.
        var viewOnly = redeemed.ViewOnly || !await access.AllowsAsync(actor, Permission.ResourceConsole, AccessTarget.Resource(resourceId), ct);
        if (viewOnly)
        {
            try
            {
                await access.RequireAsync(actor, Permission.ResourceConsoleViewOnly, AccessTarget.Resource(resourceId), "open the console", ct);
            }
            catch (PortalAccessDeniedException)
            {
                Status(context, StatusCodes.Status403Forbidden);
                return;
            }
        }

        var location = await locator.LocateAsync(resourceId, ct);
        if (location.Endpoint is not { } endpoint)
        {
            await RefuseAsync(context, actor, resourceId, StatusCodes.Status409Conflict, location.Unavailable ?? ConsoleLocator.NotRunning);
            return;
        }

        var session = new ConsoleSession(actor, context.User, resourceId, location.TenantId, location.Name ?? "", viewOnly, time.GetUtcNow());
        if (!sessions.TryAdd(session))
        {
            await RefuseAsync(context, actor, resourceId, StatusCodes.Status429TooManyRequests,
                $"{options.Value.MaxSessionsPerUser} console sessions are open already");
            return;
        }

        try
        {
            ConsoleUpstream upstream;
            try
            {
                upstream = await ConsoleUpstream.ConnectAsync(endpoint, options.Value.ConnectTimeout, ct);
            }
            catch (Exception e) when (e is SocketException or WebSocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                LogUpstreamFailed(e, resourceId, endpoint.Host, endpoint.WebSocketPort ?? endpoint.Port);
                await RefuseAsync(context, actor, resourceId, StatusCodes.Status502BadGateway, "the VM's VNC server did not answer");
                return;
            }

            await using (upstream)
            {
                using var browser = await context.WebSockets.AcceptWebSocketAsync(Subprotocol);
                await AuditAsync(actor, AuditActions.ConsoleStarted, session,
                    $"{Mode(session)} over {upstream.Kind}{(origin.Length > 0 ? $" from {origin}" : "")}", CancellationToken.None);
                LogStarted(actor.Name, resourceId, Mode(session));
                var reason = await RelayAsync(browser, upstream, session);
                var elapsed = time.GetUtcNow() - session.StartedAt;
                await AuditAsync(actor, AuditActions.ConsoleEnded, session, string.Create(CultureInfo.InvariantCulture,
                    $"{Mode(session)}, {elapsed.TotalSeconds:0.0} s, {session.BytesToBrowser} bytes to the browser and {session.BytesFromBrowser} from it{Dropped(session)}; {ConsoleSession.Words(reason)}"),
                    CancellationToken.None);
                LogEnded(actor.Name, resourceId, ConsoleSession.Words(reason));
            }
        }
        finally
        {
            sessions.Remove(session);
        }
    }

    /// <summary>
    /// Relays until one side closes or the portal ends the session (idle, revalidation, shutdown), then
    /// tells the browser why in the close frame.
    /// </summary>
    private async Task<ConsoleEndReason> RelayAsync(WebSocket browser, ConsoleUpstream upstream, ConsoleSession session)
    {
        using var stop = new CancellationTokenSource();
        using var stopping = lifetime.ApplicationStopping.Register(() => session.End(ConsoleEndReason.PortalStopping));
        var toBrowser = ToBrowserAsync(browser, upstream, session, stop.Token);
        var fromBrowser = FromBrowserAsync(browser, upstream, session, stop.Token);
        var idle = WatchIdleAsync(session, stop.Token);
        var first = await Task.WhenAny(toBrowser, fromBrowser, session.Ending);
        var reason = await first;
        stop.Cancel();
        await Quietly(toBrowser);
        await Quietly(idle);

        if (browser.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            var (status, description) = ConsoleSession.CloseFor(reason, options.Value.IdleTimeout);
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await browser.CloseOutputAsync(status, description, closing.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                browser.Abort();
            }
        }

        // The browser answers the close frame; one that does not within a few seconds of real time (a
        // network wait, not a rule of the portal's clock) is cut off.
        if (await Task.WhenAny(fromBrowser, Task.Delay(TimeSpan.FromSeconds(5), TimeProvider.System, CancellationToken.None)) != fromBrowser)
            browser.Abort();
        await Quietly(fromBrowser);
        return reason;
    }

    private static async Task<ConsoleEndReason> ToBrowserAsync(WebSocket browser, ConsoleUpstream upstream, ConsoleSession session, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await upstream.ReadAsync(buffer, ct);
                if (read == 0)
                    return ConsoleEndReason.VmClosed;
                await browser.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, ct);
                session.CountToBrowser(read);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or SocketException or ObjectDisposedException)
        {
            // The VM's side broke off (its QEMU stopped), or the browser's did; after a stop, nobody asks.
            return browser.State == WebSocketState.Open ? ConsoleEndReason.VmClosed : ConsoleEndReason.BrowserClosed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the browser until it closes. It is not cancelled when the portal ends the session: it reads
    /// the browser's answer to the close frame, and ends when the socket does.
    /// </summary>
    private async Task<ConsoleEndReason> FromBrowserAsync(WebSocket browser, ConsoleUpstream upstream, ConsoleSession session, CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var output = new ArrayBufferWriter<byte>(BufferSize);
        try
        {
            while (true)
            {
                var received = await browser.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                    return ConsoleEndReason.BrowserClosed;
                session.CountFromBrowser(received.Count);
                if (stop.IsCancellationRequested)
                    continue;
                output.ResetWrittenCount();
                bool input;
                try
                {
                    input = session.Filter.Process(buffer.AsSpan(0, received.Count), output);
                }
                catch (RfbProtocolException e)
                {
                    LogProtocolError(session.Actor.Name, session.ResourceId, e.Message);
                    session.End(ConsoleEndReason.ProtocolError);
                    continue;
                }

                if (input)
                    session.Touch(time.GetUtcNow());
                if (output.WrittenCount > 0)
                    await upstream.WriteAsync(output.WrittenMemory, stop);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            return stop.IsCancellationRequested || browser.State == WebSocketState.Open ? ConsoleEndReason.VmClosed : ConsoleEndReason.BrowserClosed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Ends the session once no input came for <see cref="ConsoleOptions.IdleTimeout"/>.</summary>
    private async Task<ConsoleEndReason> WatchIdleAsync(ConsoleSession session, CancellationToken ct)
    {
        var timeout = options.Value.IdleTimeout;
        while (true)
        {
            var left = session.LastInputAt + timeout - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                session.End(ConsoleEndReason.Idle);
                return ConsoleEndReason.Idle;
            }

            await Task.Delay(left, time, ct);
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            // The session ended; this part of it stopped as asked.
        }
    }

    private async Task RefuseAsync(HttpContext context, Actor actor, Guid resourceId, int status, string reason)
    {
        LogRefused(actor.Name, resourceId, reason);
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            var tenantId = await db.Resources.AsNoTracking().Where(r => r.Id == resourceId).Select(r => (Guid?)r.TenantId).FirstOrDefaultAsync(CancellationToken.None);
            db.Record(time, actor, AuditActions.ConsoleRefused, AccessTarget.Resource(resourceId).ToString(), tenantId, reason);
            await db.SaveChangesAsync(CancellationToken.None);
        }

        Status(context, status);
    }

    private async Task AuditAsync(Actor actor, string action, ConsoleSession session, string details, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var target = session.VmName.Length > 0 ? $"Vm {session.VmName}" : AccessTarget.Resource(session.ResourceId).ToString();
        db.Record(time, actor, action, target, session.TenantId, details);
        await db.SaveChangesAsync(ct);
    }

    private static string Mode(ConsoleSession session) => session.Filter.ViewOnly ? "view-only" : "full control";

    private static string Dropped(ConsoleSession session) =>
        session.Filter.DroppedMessages > 0 ? string.Create(CultureInfo.InvariantCulture, $", {session.Filter.DroppedMessages} input messages dropped") : "";

    /// <summary>A bare status: the portal's status-code pages are for browsers on pages.</summary>
    private static void Status(HttpContext context, int status)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            pages.Enabled = false;
        context.Response.StatusCode = status;
    }

    [LoggerMessage(LogLevel.Warning, "Refused an anonymous console connection to VM {VmId}")]
    private partial void LogAnonymous(Guid vmId);

    [LoggerMessage(LogLevel.Warning, "Refused {Actor}'s console connection to VM {VmId}: {Reason}")]
    private partial void LogRefused(string actor, Guid vmId, string reason);

    [LoggerMessage(LogLevel.Warning, "The console of VM {VmId} at {Host}:{Port} did not answer")]
    private partial void LogUpstreamFailed(Exception exception, Guid vmId, string host, int port);

    [LoggerMessage(LogLevel.Information, "Console session of {Actor} on VM {VmId} started ({Mode})")]
    private partial void LogStarted(string actor, Guid vmId, string mode);

    [LoggerMessage(LogLevel.Information, "Console session of {Actor} on VM {VmId} ended: {Reason}")]
    private partial void LogEnded(string actor, Guid vmId, string reason);

    [LoggerMessage(LogLevel.Warning, "Console session of {Actor} on VM {VmId} sent an RFB message the proxy does not accept: {Problem}")]
    private partial void LogProtocolError(string actor, Guid vmId, string problem);
}
