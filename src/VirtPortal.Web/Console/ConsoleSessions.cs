using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Access;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Web.Security;

namespace VirtPortal.Web.Console;

/// <summary>
/// Every open console session. Holds the per-user limit (<see cref="ConsoleOptions.MaxSessionsPerUser"/>)
/// and checks every session again each <see cref="ConsoleOptions.RevalidationInterval"/>: a sign-in that no
/// longer speaks for its user (locked out, deleted, a changed security stamp: <see cref="SessionValidation"/>)
/// or a user who may no longer open the VM's console ends the session; one who may now only watch it
/// goes on view-only. A session that cannot be checked is ended: fail closed.
/// </summary>
public sealed partial class ConsoleSessions(
    PortalAccess access, IServiceScopeFactory scopes, IOptions<IdentityOptions> identityOptions, IOptions<ConsoleOptions> options,
    ILogger<ConsoleSessions> logger)
{
    private readonly ConcurrentDictionary<Guid, ConsoleSession> open = new();
    private readonly Lock gate = new();

    /// <summary>Registers the session unless its user has as many open as the limit allows.</summary>
    public bool TryAdd(ConsoleSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (gate)
        {
            if (open.Values.Count(s => s.Actor.UserId == session.Actor.UserId) >= options.Value.MaxSessionsPerUser)
                return false;
            open[session.Id] = session;
            return true;
        }
    }

    public void Remove(ConsoleSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (gate)
        {
            open.TryRemove(session.Id, out _);
        }
    }

    /// <summary>The open sessions of one user.</summary>
    public IReadOnlyList<ConsoleSession> Of(string userId) => [.. open.Values.Where(s => s.Actor.UserId == userId)];

    public async Task RevalidateAllAsync(CancellationToken ct)
    {
        foreach (var session in open.Values)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (await RevalidateAsync(session, ct) is { } reason)
                {
                    LogEnded(session.Actor.Name, session.ResourceId, ConsoleSession.Words(reason));
                    session.End(reason);
                }
            }
#pragma warning disable CA1031 // Fail closed: a session that cannot be checked is ended, and the others are still checked.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                LogRevalidationFailed(e, session.Actor.Name, session.ResourceId);
                session.End(ConsoleEndReason.Failed);
            }
        }
    }

    private async Task<ConsoleEndReason?> RevalidateAsync(ConsoleSession session, CancellationToken ct)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            if (!await SessionValidation.IsCurrentAsync(users, identityOptions.Value, session.Principal, scope.ServiceProvider.GetRequiredService<ApiTokenService>()))
                return ConsoleEndReason.SignInInvalid;
        }

        var target = AccessTarget.Resource(session.ResourceId);
        if (session.Filter.ViewOnly || !await access.AllowsAsync(session.Actor, Permission.ResourceConsole, target, ct))
        {
            if (!await access.AllowsAsync(session.Actor, Permission.ResourceConsoleViewOnly, target, ct))
                return ConsoleEndReason.AccessLost;
            session.Filter.ViewOnly = true;
        }

        return null;
    }

    [LoggerMessage(LogLevel.Information, "Console session of {Actor} on VM {VmId} ended: {Reason}")]
    private partial void LogEnded(string actor, Guid vmId, string reason);

    [LoggerMessage(LogLevel.Warning, "Console session of {Actor} on VM {VmId} could not be revalidated and was ended")]
    private partial void LogRevalidationFailed(Exception exception, string actor, Guid vmId);
}

/// <summary>Checks every open console session again each <see cref="ConsoleOptions.RevalidationInterval"/>.</summary>
public sealed class ConsoleRevalidator(ConsoleSessions sessions, IOptions<ConsoleOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevalidationInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await sessions.RevalidateAllAsync(stoppingToken);
    }
}
