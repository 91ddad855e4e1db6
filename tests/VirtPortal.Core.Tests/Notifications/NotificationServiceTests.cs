using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Common;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Notifications;

public sealed class NotificationServiceTests : PortalTestBase
{
    private static readonly Actor Mia = new("mia-id", "mia@test.local", new HashSet<string>());
    private static readonly Actor Owen = new("owen-id", "owen@test.local", new HashSet<string>());

    private NotificationService Notifications => Host.Services.GetRequiredService<NotificationService>();

    [Fact]
    public async Task An_added_notification_is_unread_until_marked_read()
    {
        var added = await AddAsync(Mia, "Your VM is ready");
        Assert.Equal(1, await Notifications.UnreadCountAsync(Mia, Ct));

        await Notifications.MarkReadAsync(Mia, added.Id, Ct);

        Assert.Equal(0, await Notifications.UnreadCountAsync(Mia, Ct));
        var listed = Assert.Single(await Notifications.ListAsync(Mia, 10, Ct));
        Assert.Equal((added.Id, "Your VM is ready", Host.Time.GetUtcNow()), (listed.Id, listed.Text, listed.ReadAt));
    }

    [Fact]
    public async Task Marking_another_users_notification_is_not_found_and_leaves_it_unread()
    {
        var owens = await AddAsync(Owen, "Approval needed");

        await Assert.ThrowsAsync<PortalNotFoundException>(() => Notifications.MarkReadAsync(Mia, owens.Id, Ct));

        Assert.Equal(1, await Notifications.UnreadCountAsync(Owen, Ct));
    }

    [Fact]
    public async Task A_user_lists_and_counts_only_their_own_notifications_newest_first()
    {
        await AddAsync(Mia, "first");
        await AddAsync(Owen, "not yours");
        await AddAsync(Mia, "second");

        var listed = await Notifications.ListAsync(Mia, 10, Ct);

        Assert.Equal(["second", "first"], listed.Select(n => n.Text));
        Assert.Equal(2, await Notifications.UnreadCountAsync(Mia, Ct));
    }

    [Fact]
    public async Task Mark_all_read_marks_only_the_actors_notifications()
    {
        await AddAsync(Mia, "one");
        await AddAsync(Mia, "two");
        await AddAsync(Owen, "three");

        var marked = await Notifications.MarkAllReadAsync(Mia, Ct);

        Assert.Equal((2, 0, 1), (marked, await Notifications.UnreadCountAsync(Mia, Ct), await Notifications.UnreadCountAsync(Owen, Ct)));
    }

    [Fact]
    public async Task Add_writes_nothing_until_the_caller_saves()
    {
        await using (var db = Host.NewDb())
            NotificationService.Add(db, Host.Time, Mia.UserId, NotificationKind.LeaseWarning, "Lease ends", "/resources", null);

        Assert.Equal(0, await Notifications.UnreadCountAsync(Mia, Ct));
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("requests")]
    public async Task A_link_outside_the_portal_is_refused(string link)
    {
        await using var db = Host.NewDb();

        Assert.Throws<ArgumentException>(() =>
            NotificationService.Add(db, Host.Time, Mia.UserId, NotificationKind.RequestDecided, "Decided", link, null));
    }

    [Fact]
    public async Task Publishing_after_commit_delivers_NotificationAdded_on_the_bus()
    {
        var live = Host.Services.GetRequiredService<LiveUpdates>();
        var received = new TaskCompletionSource<LiveMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = live.Subscribe(m =>
        {
            received.TrySetResult(m);
            return Task.CompletedTask;
        });
        var added = await AddAsync(Mia, "Your database is ready");

        Notifications.PublishAdded([added]);

        var message = await received.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(new NotificationAdded(Mia.UserId, added.Id), message);
    }

    [Fact]
    public async Task Publishing_before_saving_is_a_bug_and_throws()
    {
        await using var db = Host.NewDb();
        var unsaved = NotificationService.Add(db, Host.Time, Mia.UserId, NotificationKind.RequestDecided, "Decided", "", null);

        Assert.Throws<InvalidOperationException>(() => Notifications.PublishAdded([unsaved]));
    }

    private async Task<Notification> AddAsync(Actor user, string text)
    {
        Host.Time.Advance(TimeSpan.FromMinutes(1));
        await using var db = Host.NewDb();
        var notification = NotificationService.Add(db, Host.Time, user.UserId, NotificationKind.ProvisioningFinished, text, "/requests", null);
        await db.SaveChangesAsync(Ct);
        return notification;
    }
}
