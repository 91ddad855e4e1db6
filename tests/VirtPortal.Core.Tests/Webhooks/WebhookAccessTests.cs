using VirtPortal.Core.Common;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Webhooks;

namespace VirtPortal.Core.Tests.Webhooks;

public sealed class WebhookAccessTests : WebhookTestBase
{
    [Fact]
    public async Task Another_tenants_owner_can_neither_see_nor_change_nor_test_a_subscription()
    {
        var (receiver, subscription) = await SubscribeAsync("*");
        await using var _r = receiver;
        var stranger = await Host.CreateUserAsync("owner@globex.test");
        await Host.CreateTenantAsync("Globex", (stranger, TenantRole.Owner));

        Assert.Empty(await Webhooks.ListAsync(stranger, null, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.GetAsync(stranger, subscription.Id, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.UpdateAsync(stranger, subscription.Id, new WebhookDraft("http://127.0.0.1:1/", ["*"]), null, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.DeleteAsync(stranger, subscription.Id, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.SendTestAsync(stranger, subscription.Id, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.DeliveriesAsync(stranger, subscription.Id, PageRequest.First, Ct));
        Assert.Equal(receiver.Url, (await Webhooks.GetAsync(Owner, subscription.Id, Ct)).Url);
    }

    [Fact]
    public async Task A_member_sees_no_subscription_of_their_tenant_and_may_not_make_one()
    {
        var (receiver, subscription) = await SubscribeAsync("*");
        await using var _r = receiver;

        Assert.Empty(await Webhooks.ListAsync(Member, null, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.GetAsync(Member, subscription.Id, Ct));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.CreateAsync(Member, Acme, new WebhookDraft(receiver.Url, ["*"]), Ct));
    }

    [Fact]
    public async Task Only_admins_make_portal_wide_subscriptions_and_only_those_take_host_events()
    {
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Webhooks.CreateAsync(Owner, null, new WebhookDraft("http://127.0.0.1:1/", ["host.*"]), Ct));
        var tenantHosts = await Assert.ThrowsAsync<PortalValidationException>(() => Webhooks.CreateAsync(Owner, Acme, new WebhookDraft("http://127.0.0.1:1/", ["host.*"]), Ct));
        Assert.Equal(["\"host\" is not an event kind of a tenant: use request, resource, database."], tenantHosts.Errors[nameof(WebhookDraft.Events)]);

        var portalWide = await Webhooks.CreateAsync(await Host.AdminAsync(), null, new WebhookDraft("http://127.0.0.1:1/", ["host.*", "database_server.*"]), Ct);

        Assert.Null(portalWide.Subscription.TenantId);
        Assert.DoesNotContain(await Webhooks.ListAsync(Owner, null, Ct), w => w.Id == portalWide.Subscription.Id);
    }

    [Fact]
    public async Task A_bad_draft_is_refused_on_each_field_with_nothing_saved()
    {
        var invalid = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Webhooks.CreateAsync(Owner, Acme, new WebhookDraft("http://169.254.169.254/", ["resource", "nonsense.*"], new string('x', 201)), Ct));

        Assert.Equal(["169.254.169.254 is a link-local or metadata address: webhooks cannot be sent there."], invalid.Errors[nameof(WebhookDraft.Url)]);
        Assert.Equal(["\"resource\" is not an event type: use kind.what, with * for either part (resource.*, *.failed)."], invalid.Errors[nameof(WebhookDraft.Events)]);
        Assert.Equal(["Use at most 200 characters."], invalid.Errors[nameof(WebhookDraft.Description)]);
        Assert.Empty(await Webhooks.ListAsync(Owner, null, Ct));
    }

    [Fact]
    public async Task A_change_with_a_stale_version_is_refused_and_the_secret_is_never_shown_again()
    {
        var (receiver, subscription) = await SubscribeAsync("*");
        await using var _r = receiver;

        await Assert.ThrowsAsync<PortalConcurrencyException>(() => Webhooks.UpdateAsync(Owner, subscription.Id, new WebhookDraft(receiver.Url, ["request.*"]), subscription.Version + 1, Ct));
        var changed = await Webhooks.UpdateAsync(Owner, subscription.Id, new WebhookDraft(receiver.Url, ["request.*"]), subscription.Version, Ct);

        Assert.Equal(["request.*"], changed.Events);
        Assert.Equal(subscription.Version + 1, changed.Version);
        Assert.DoesNotContain(receiver.Secret!, changed.SecretHint, StringComparison.Ordinal);
        Assert.EndsWith("…", changed.SecretHint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pending_delivery_is_not_redelivered_and_a_disabled_webhook_takes_no_test_event()
    {
        var (receiver, subscription) = await SubscribeAsync("*");
        await using var _r = receiver;
        var pending = await Webhooks.SendTestAsync(Owner, subscription.Id, Ct);

        var twice = await Assert.ThrowsAsync<PortalValidationException>(() => Webhooks.RedeliverAsync(Owner, pending.Id, Ct));
        await Webhooks.UpdateAsync(Owner, subscription.Id, new WebhookDraft(receiver.Url, ["*"], Enabled: false), null, Ct);
        var disabled = await Assert.ThrowsAsync<PortalValidationException>(() => Webhooks.SendTestAsync(Owner, subscription.Id, Ct));

        Assert.Equal(["This delivery is still being sent: redeliver it once it succeeded or failed."], twice.Errors[""]);
        Assert.Equal(["The webhook is disabled: enable it first, a disabled webhook is sent nothing."], disabled.Errors[nameof(WebhookDraft.Enabled)]);
        Assert.Single((await Webhooks.DeliveriesAsync(Owner, subscription.Id, PageRequest.First, Ct)).Items);
    }
}
