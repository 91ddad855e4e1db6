using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Data;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Web.Components.Layout;
using TestContext = Xunit.TestContext;

namespace VirtPortal.Web.Tests.Layout;

/// <summary>The bell against the real notification service and LiveUpdates bus on a real SQLite file.</summary>
public sealed class NotificationBellTests : PortalCoreComponentTest
{
    private const string MiaId = "mia-id";
    private const string OwenId = "owen-id";

    public NotificationBellTests() => SignIn(MiaId, "mia@example.test");

    [Fact]
    public void With_no_unread_notifications_no_count_is_shown()
    {
        var bell = Render<NotificationBell>();

        Assert.Empty(bell.FindAll("[data-testid=notification-count]"));
    }

    [Fact]
    public async Task A_published_notification_for_the_user_shows_a_count_of_one_by_itself()
    {
        var bell = Render<NotificationBell>();

        await AddAndPublishAsync(MiaId, "Your VM is ready");

        bell.WaitForAssertion(() => Assert.Equal("1", bell.Find("[data-testid=notification-count]").TextContent.Trim()));
    }

    [Fact]
    public async Task A_published_notification_for_another_user_leaves_the_bell_alone()
    {
        var bell = Render<NotificationBell>();
        // Unread but not yet announced: were the bell to re-read on someone else's message, it would show it.
        await AddAsync(MiaId, "Not announced yet");
        var delivered = DeliveredAsync(OwenId);

        await AddAndPublishAsync(OwenId, "Approval needed");

        await delivered;
        // A negative: give the bell's handler, which ran alongside ours, time to do anything it wrongly would.
        await Task.Delay(TimeSpan.FromMilliseconds(300), Ct);
        Assert.Empty(bell.FindAll("[data-testid=notification-count]"));
    }

    [Fact]
    public async Task Clicking_an_unread_notification_marks_it_read_and_opens_its_link()
    {
        await AddAsync(MiaId, "Request approved", "/tenants");
        var popovers = Render<MudPopoverProvider>();
        var bell = Render<NotificationBell>();

        await bell.Find("[data-testid=notification-button]").ClickAsync(new());
        popovers.WaitForAssertion(() => Assert.Equal("false", popovers.Find("[data-testid=notification-item]").GetAttribute("data-read")));
        await popovers.Find("[data-testid=notification-item]").ClickAsync(new());

        bell.WaitForAssertion(() => Assert.Empty(bell.FindAll("[data-testid=notification-count]")));
        Assert.EndsWith("/tenants", Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri, StringComparison.Ordinal);
        Assert.Equal(0, await UnreadAsync(MiaId));
    }

    [Fact]
    public async Task Mark_all_read_clears_the_count()
    {
        await AddAsync(MiaId, "one");
        await AddAsync(MiaId, "two");
        var popovers = Render<MudPopoverProvider>();
        var bell = Render<NotificationBell>();
        Assert.Equal("2", bell.Find("[data-testid=notification-count]").TextContent.Trim());

        await bell.Find("[data-testid=notification-button]").ClickAsync(new());
        popovers.WaitForAssertion(() => Assert.Equal(2, popovers.FindAll("[data-testid=notification-item]").Count));
        await popovers.Find("[data-testid=notification-mark-all]").ClickAsync(new());

        bell.WaitForAssertion(() => Assert.Empty(bell.FindAll("[data-testid=notification-count]")));
        Assert.Equal(0, await UnreadAsync(MiaId));
    }

    [Fact]
    public async Task Disposing_the_bell_ends_its_subscription()
    {
        var live = Services.GetRequiredService<LiveUpdates>();
        var before = live.SubscriberCount;
        Render<NotificationBell>();
        Assert.Equal(before + 1, live.SubscriberCount);

        await DisposeComponentsAsync();

        Assert.Equal(before, live.SubscriberCount);
    }

    private async Task<Notification> AddAsync(string userId, string text, string link = "")
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var notification = NotificationService.Add(db, TimeProvider.System, userId, NotificationKind.RequestDecided, text, link, null);
        await db.SaveChangesAsync(Ct);
        return notification;
    }

    private async Task AddAndPublishAsync(string userId, string text) =>
        Services.GetRequiredService<NotificationService>().PublishAdded([await AddAsync(userId, text)]);

    /// <summary>Completes once the bus has delivered a NotificationAdded for <paramref name="userId"/> to a subscriber of its own.</summary>
    private Task DeliveredAsync(string userId)
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = Services.GetRequiredService<LiveUpdates>().Subscribe(m =>
        {
            if (m is NotificationAdded added && added.UserId == userId)
                delivered.TrySetResult();
            return Task.CompletedTask;
        });
        return delivered.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct).ContinueWith(_ => subscription.Dispose(), Ct, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private async Task<int> UnreadAsync(string userId)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        return await db.Notifications.CountAsync(n => n.UserId == userId && n.ReadAt == null, Ct);
    }
}
