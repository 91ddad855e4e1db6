using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace VirtPortal.Core.Tests.Webhooks;

public sealed class WebhookDeliveryTests : WebhookTestBase
{
    [Fact]
    public async Task Events_of_one_entity_arrive_in_the_order_they_happened_each_signed_so_the_receiver_verifies_it()
    {
        var (receiver, _) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        var vm = await AddVmAsync();
        foreach (var state in new[] { ResourceState.Running, ResourceState.Shutoff, ResourceState.Running, ResourceState.Deleting, ResourceState.Deleted })
            await MoveAsync(vm.Id, state);

        await Dispatcher.RunOnceAsync(Ct);

        var received = receiver.Received;
        Assert.All(received, r => Assert.True(r.Verified, r.Problem));
        Assert.Equal(["resource.created", "resource.running", "resource.shutoff", "resource.running", "resource.deleting", "resource.deleted"], received.Select(r => r.Type));
        Assert.Equal([1L, 2, 3, 4, 5, 6], received.Select(r => r.EntityVersion));
        Assert.All(received, r => Assert.Equal(vm.Id, r.EntityId));
        Assert.Equal(received.Count, received.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_payload_names_its_tenant_its_actor_from_the_audit_entry_and_the_request_behind_it()
    {
        var (receiver, _) = await SubscribeAsync("request.*");
        await using var _r = receiver;
        var requestId = await Host.Services.GetRequiredService<RequestDrafts>().SubmitAsync(Member, new RequestDraft
        {
            Kind = RequestKind.QuotaIncrease, TenantId = Acme, RequestedQuota = TenantQuota.Default with { VCpus = TenantQuota.Default.VCpus + 1 }, Justification = "more",
        }, Ct);

        await Dispatcher.RunOnceAsync(Ct);

        var created = Assert.Single(receiver.Received, r => r.Type == "request.created").Json;
        Assert.Equal(Acme, created.GetProperty("tenantId").GetGuid());
        Assert.Equal(Member.UserId, created.GetProperty("actor").GetProperty("id").GetString());
        Assert.Equal(requestId, created.GetProperty("requestId").GetGuid());
        Assert.Equal("request", created.GetProperty("entity").GetProperty("kind").GetString());
        Assert.Equal(created.GetProperty("id").GetString(), receiver.Received[0].Id);
    }

    [Fact]
    public async Task A_request_that_moves_within_its_state_is_sent_as_updated_with_its_new_version()
    {
        var (receiver, _) = await SubscribeAsync("request.*");
        await using var _r = receiver;
        var now = Host.Time.GetUtcNow();
        var request = new Request
        {
            Id = Guid.CreateVersion7(now), TenantId = Acme, RequesterId = Member.UserId, RequesterName = Member.Name, Kind = RequestKind.NewVm,
            State = RequestState.PendingApproval, Name = "two-stages", SubmittedAt = now, CurrentStage = 1, StageCount = 2, Version = 1,
        };
        await using (var db = Host.NewDb())
        {
            db.Requests.Add(request);
            await db.SaveChangesAsync(Ct);
            request.CurrentStage = 2;
            request.Version++;
            await db.SaveChangesAsync(Ct);
        }

        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal([("request.created", 1L), ("request.updated", 2L)], receiver.Received.Select(r => (r.Type, r.EntityVersion)));
        Assert.Equal(2, receiver.Received[1].Json.GetProperty("data").GetProperty("stage").GetInt32());
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_then_succeeds_gets_the_event_exactly_once_more()
    {
        var (receiver, subscription) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        receiver.AnswerNext(500, 503);
        var vm = await AddVmAsync();

        await Dispatcher.RunOnceAsync(Ct);
        Host.Time.Advance(TimeSpan.FromSeconds(10));
        await Dispatcher.RunOnceAsync(Ct);
        Host.Time.Advance(TimeSpan.FromSeconds(20));
        await Dispatcher.RunOnceAsync(Ct);
        Host.Time.Advance(TimeSpan.FromMinutes(10));
        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal([500, 503, 200], receiver.Received.Select(r => r.Answered));
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        var delivery = Assert.Single(await DeliveriesAsync(subscription.Id));
        Assert.Equal(WebhookDeliveryState.Succeeded, delivery.State);
        Assert.Equal(3, delivery.Attempts);
        Assert.Equal(200, delivery.ResponseStatus);
        Assert.Equal(vm.Id, delivery.EntityId);
    }

    [Fact]
    public async Task A_retry_waits_its_backoff_and_holds_back_the_later_events_of_its_entity_but_not_of_others()
    {
        var (receiver, _) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        receiver.AnswerNext(500);
        var first = await AddVmAsync("web-1");
        await MoveAsync(first.Id, ResourceState.Running);
        var second = await AddVmAsync("web-2");

        await Dispatcher.RunOnceAsync(Ct);
        Host.Time.Advance(TimeSpan.FromSeconds(4)); // less than half the first retry delay: not due yet, whatever the jitter
        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal([(first.Id, "resource.created"), (second.Id, "resource.created")], receiver.Received.Select(r => (r.EntityId, r.Type)));
        Host.Time.Advance(TimeSpan.FromSeconds(10));
        await Dispatcher.RunOnceAsync(Ct);
        Assert.Equal([(first.Id, "resource.created"), (first.Id, "resource.running")], receiver.Received.Skip(2).Select(r => (r.EntityId, r.Type)));
    }

    [Fact]
    public async Task What_a_host_reports_of_a_vm_is_sent_as_an_observed_event_after_the_ones_before_it()
    {
        var (receiver, _) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        var vm = await AddVmAsync();
        await using (var db = Host.NewDb())
        {
            await ResourceLifecycle.ReportAsync(db, new Dictionary<Guid, ResourceState> { [vm.Id] = ResourceState.Shutoff }, Host.Time.GetUtcNow(), Ct);
            await db.SaveChangesAsync(Ct);
        }

        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal(["resource.created", "resource.observed"], receiver.Received.Select(r => r.Type));
        var observed = receiver.Received[1];
        Assert.Equal(2, observed.EntityVersion);
        Assert.Equal("Shutoff", observed.Json.GetProperty("data").GetProperty("observedState").GetString());
        Assert.Equal("system", observed.Json.GetProperty("actor").GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_hosts_report_and_its_observed_event_are_written_together_without_the_callers_save()
    {
        var (receiver, _) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        var vm = await AddVmAsync();
        await using (var db = Host.NewDb())
        {
            // No SaveChanges here: a portal that stops right after the report still has the event in its outbox.
            await ResourceLifecycle.ReportAsync(db, new Dictionary<Guid, ResourceState> { [vm.Id] = ResourceState.Paused }, Host.Time.GetUtcNow(), Ct);
        }

        await using (var check = Host.NewDb())
        {
            Assert.Equal(ResourceState.Paused, (await check.Resources.AsNoTracking().SingleAsync(r => r.Id == vm.Id, Ct)).ObservedState);
            Assert.Single(await check.WebhookEvents.AsNoTracking().Where(e => e.EntityId == vm.Id && e.Type == "resource.observed").ToListAsync(Ct));
        }

        await Dispatcher.RunOnceAsync(Ct);
        Assert.Equal(["resource.created", "resource.observed"], receiver.Received.Select(r => r.Type));
    }

    [Fact]
    public async Task Finished_deliveries_older_than_the_retention_are_purged_with_their_events_and_pending_ones_stay()
    {
        var (receiver, subscription) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        await AddVmAsync("web-1");
        await Dispatcher.RunOnceAsync(Ct);
        receiver.DefaultAnswer = 500;
        await AddVmAsync("web-2");
        await Dispatcher.RunOnceAsync(Ct);

        Host.Time.Advance(TimeSpan.FromDays(31));
        Assert.Equal(1, await Dispatcher.PurgeAsync(Ct));

        var left = Assert.Single(await DeliveriesAsync(subscription.Id));
        Assert.Equal(WebhookDeliveryState.Pending, left.State);
        await using var db = Host.NewDb();
        Assert.False(await db.WebhookEvents.AnyAsync(e => e.Type == "resource.created" && e.Sequence != left.EventSequence, Ct));
    }

    [Fact]
    public async Task A_change_that_is_rolled_back_sends_no_event()
    {
        var (receiver, subscription) = await SubscribeAsync("*");
        await using var _r = receiver;
        var vm = await AddVmAsync();
        await Dispatcher.RunOnceAsync(Ct);
        await using (var db = Host.NewDb())
        {
            await using var tx = await db.Database.BeginTransactionAsync(Ct);
            var tracked = await db.Resources.SingleAsync(r => r.Id == vm.Id, Ct);
            tracked.State = ResourceState.Running;
            tracked.Version++;
            await db.SaveChangesAsync(Ct);
            await tx.RollbackAsync(Ct);
        }

        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal(["resource.created"], receiver.Received.Select(r => r.Type));
        Assert.Single(await DeliveriesAsync(subscription.Id));
    }

    [Fact]
    public async Task A_subscription_gets_only_the_event_types_it_chose_and_only_its_tenants()
    {
        var (receiver, _) = await SubscribeAsync("resource.running");
        await using var _r = receiver;
        var globex = await Host.CreateTenantAsync("Globex");
        var vm = await AddVmAsync();
        await MoveAsync(vm.Id, ResourceState.Running);
        await using (var db = Host.NewDb())
        {
            var now = Host.Time.GetUtcNow();
            db.Resources.Add(new Resource { Id = Guid.CreateVersion7(now), TenantId = globex, Kind = ResourceKind.Vm, Name = "other", State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(1), Version = 1 });
            await db.SaveChangesAsync(Ct);
        }

        await Dispatcher.RunOnceAsync(Ct);

        var only = Assert.Single(receiver.Received);
        Assert.Equal(("resource.running", vm.Id), (only.Type, only.EntityId));
    }
}

public sealed class WebhookFailingTests : WebhookTestBase
{
    protected override int MaxAttempts => 2;

    [Fact]
    public async Task After_its_last_attempt_a_subscription_is_failing_its_owner_is_told_and_nothing_more_is_sent_until_a_test_event_succeeds()
    {
        var (receiver, subscription) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        receiver.DefaultAnswer = 500;
        var vm = await AddVmAsync();

        await Dispatcher.RunOnceAsync(Ct);
        Host.Time.Advance(TimeSpan.FromSeconds(10));
        await Dispatcher.RunOnceAsync(Ct);

        var failing = await Webhooks.GetAsync(Owner, subscription.Id, Ct);
        Assert.Equal(WebhookSubscriptionState.Failing, failing.State);
        Assert.Equal(WebhookDeliveryState.Failed, Assert.Single(await DeliveriesAsync(subscription.Id)).State);
        await using (var db = Host.NewDb())
        {
            var told = await db.Notifications.AsNoTracking().SingleAsync(n => n.Kind == NotificationKind.WebhookFailing, Ct);
            Assert.Equal(Owner.UserId, told.UserId);
            Assert.Equal(WebhookRoutes.Subscription(subscription.Id), told.Link);
        }

        // Paused: a new event waits.
        await MoveAsync(vm.Id, ResourceState.Running);
        Host.Time.Advance(TimeSpan.FromMinutes(5));
        await Dispatcher.RunOnceAsync(Ct);
        Assert.Equal(2, receiver.Received.Count);

        // The owner fixes the receiver and sends a test event: it goes, and its success resumes the waiting event.
        receiver.DefaultAnswer = 200;
        await Webhooks.SendTestAsync(Owner, subscription.Id, Ct);
        await Dispatcher.RunOnceAsync(Ct);
        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal([WebhookEventTypes.Test, "resource.running"], receiver.Received.Skip(2).Select(r => r.Type));
        Assert.Equal(WebhookSubscriptionState.Active, (await Webhooks.GetAsync(Owner, subscription.Id, Ct)).State);
    }

    [Fact]
    public async Task A_redelivery_sends_the_same_event_id_again_as_a_new_delivery()
    {
        var (receiver, subscription) = await SubscribeAsync("resource.*");
        await using var _r = receiver;
        await AddVmAsync();
        await Dispatcher.RunOnceAsync(Ct);
        var original = Assert.Single(await DeliveriesAsync(subscription.Id));

        var again = await Webhooks.RedeliverAsync(Owner, original.Id, Ct);
        await Dispatcher.RunOnceAsync(Ct);

        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal(receiver.Received[0].Id, receiver.Received[1].Id);
        Assert.Equal(receiver.Received[0].Body, receiver.Received[1].Body);
        Assert.True(again.IsRedelivery);
        Assert.Equal(WebhookDeliveryState.Succeeded, (await DeliveriesAsync(subscription.Id)).Single(d => d.Id == again.Id).State);
    }
}
