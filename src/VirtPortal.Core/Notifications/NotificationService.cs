using VirtPortal.Core.Access;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Notifications;

/// <summary>
/// A user's notification centre. Features add notifications with <see cref="Add"/> in the same
/// SaveChanges as the change they report, then call <see cref="PublishAdded"/> once committed, so that
/// no bell lights up for a change that was rolled back. Users read and mark only their own.
/// </summary>
public sealed class NotificationService(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, TimeProvider time, LiveUpdates live)
{
    public const int MaxTake = 100;

    public const int TextMaxLength = 1000;

    public const int LinkMaxLength = 500;

    /// <summary>
    /// Adds a notification to <paramref name="db"/>'s change set; the caller saves it with its own change.
    /// <paramref name="link"/> is app-relative ("/requests/…") or empty, never another site.
    /// </summary>
    public static Notification Add(
        PortalDbContext db, TimeProvider time, string userId, NotificationKind kind, string text, string link, Guid? tenantId)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ArgumentNullException.ThrowIfNull(link);
        // Texts quote user input (a rejection reason); shorten rather than lose the notification.
        if (text.Length > TextMaxLength)
            text = text[..(TextMaxLength - 1)] + "…";
        ArgumentOutOfRangeException.ThrowIfGreaterThan(link.Length, LinkMaxLength, nameof(link));
        // The bell navigates to the link: a link to another site would be an open redirect.
        if (link.Length > 0 && !IsAppRelative(link))
            throw new ArgumentException("A notification links inside the portal (\"/…\").", nameof(link));

        var notification = new Notification
        {
            UserId = userId,
            Kind = kind,
            Text = text,
            Link = link,
            TenantId = tenantId,
            At = time.GetUtcNow(),
        };
        db.Notifications.Add(notification);
        return notification;
    }

    /// <summary>Tells the bus about notifications that <see cref="Add"/> created and the caller has committed.</summary>
    public void PublishAdded(IEnumerable<Notification> added)
    {
        ArgumentNullException.ThrowIfNull(added);
        foreach (var notification in added)
        {
            if (notification.Id == 0)
                throw new InvalidOperationException("Publish a notification after saving it, not before.");
            live.Publish(new NotificationAdded(notification.UserId, notification.Id));
        }
    }

    /// <summary>The actor's latest notifications, newest first.</summary>
    [Requires(Permission.SignedIn)]
    public async Task<IReadOnlyList<Notification>> ListAsync(Actor actor, int take = 10, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "read notifications", ct);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(take, MaxTake);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Notifications.AsNoTracking().Where(n => n.UserId == actor.UserId)
            .OrderByDescending(n => n.At).ThenByDescending(n => n.Id).Take(take).ToListAsync(ct);
    }

    [Requires(Permission.SignedIn)]
    public async Task<int> UnreadCountAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "read notifications", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Notifications.CountAsync(n => n.UserId == actor.UserId && n.ReadAt == null, ct);
    }

    /// <summary>Marks one of the actor's notifications read; another user's looks like one that does not exist.</summary>
    [Requires(Permission.SignedIn)]
    public async Task MarkReadAsync(Actor actor, long notificationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "read notifications", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var notification = await db.Notifications.FirstOrDefaultAsync(n => n.Id == notificationId && n.UserId == actor.UserId, ct)
            ?? throw new PortalNotFoundException("That notification does not exist.");
        if (notification.ReadAt is not null)
            return;
        notification.ReadAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Marks every unread notification of the actor read; returns how many there were.</summary>
    [Requires(Permission.SignedIn)]
    public async Task<int> MarkAllReadAsync(Actor actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await access.RequireAsync(actor, Permission.SignedIn, AccessTarget.Portal, "read notifications", ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        return await db.Notifications.Where(n => n.UserId == actor.UserId && n.ReadAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct);
    }

    private static bool IsAppRelative(string link) =>
        link[0] == '/' && (link.Length == 1 || (link[1] != '/' && link[1] != '\\'));
}
