using Bunit;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Users;
using VirtPortal.Core.Webhooks;
using VirtPortal.Tests.Webhooks;
using VirtPortal.Web.Components.Pages.Webhooks;
using VirtPortal.Web.Components.Shared;

namespace VirtPortal.Web.Tests.Webhooks;

/// <summary>The webhook pages against the real services on a real SQLite file; the dispatcher is run by the test, pass by pass.</summary>
public sealed class WebhookPagesTests : PortalCoreComponentTest
{
    private readonly WebhookReceiver receiver = new();
    private Actor owner = default!;
    private Guid acme;

    public WebhookPagesTests()
        : base(services: s => s.Configure<WebhookOptions>(o => o.AllowPrivateTargets = true))
    {
    }

    private WebhookService Webhooks => Services.GetRequiredService<WebhookService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        JSInterop.SetupModule("./js/clipboard.js").Setup<bool>("copyText", _ => true).SetResult(true);
        var users = Services.GetRequiredService<UserAdministration>();
        var created = await users.CreateAsync(Actor.System, new NewUser("owner@acme.test", "", []), Ct);
        owner = new Actor(created.UserId, "owner@acme.test", new HashSet<string>());
        var tenants = Services.GetRequiredService<TenantService>();
        acme = await tenants.CreateAsync(Actor.System, "Acme", null, TenantQuota.Default, Ct);
        await tenants.AddMemberAsync(Actor.System, acme, owner.Name, TenantRole.Owner, Ct);
        SignIn(owner.UserId, owner.Name);
    }

    [Fact]
    public async Task An_owner_makes_a_webhook_sees_its_secret_once_and_finds_it_listed_by_its_first_characters()
    {
        var page = Render<WebhooksPage>();
        page.WaitForElement("[data-testid=webhooks-empty]");

        page.Find("[data-testid=webhook-url]").Input(receiver.Url);
        await page.Find("[data-testid=webhook-create]").ClickAsync(new());

        var secret = page.WaitForElement("[data-testid=webhook-secret]").GetAttribute("value")!;
        Assert.StartsWith(WebhookSigner.SecretPrefix, secret, StringComparison.Ordinal);
        var listed = Assert.Single(await Webhooks.ListAsync(owner, acme, Ct));
        page.WaitForAssertion(() => Assert.Contains(receiver.Url, page.Find($"[data-testid=webhook-{listed.Id}]").TextContent, StringComparison.Ordinal));
        Assert.Equal(["resource.*", "request.*"], listed.Events);

        var again = Render<WebhooksPage>();
        again.WaitForElement($"[data-testid=webhook-{listed.Id}]");
        Assert.DoesNotContain(secret, again.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_the_portal_may_not_call_is_refused_next_to_the_field()
    {
        var page = Render<WebhooksPage>();
        page.WaitForElement("[data-testid=webhooks-empty]");

        page.Find("[data-testid=webhook-url]").Input("http://169.254.169.254/latest/meta-data/");
        await page.Find("[data-testid=webhook-create]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("169.254.169.254 is a link-local or metadata address", page.Find("[data-testid=webhook-form]").TextContent, StringComparison.Ordinal));
        Assert.Empty(await Webhooks.ListAsync(owner, acme, Ct));
    }

    [Fact]
    public async Task A_test_event_shows_up_in_the_delivery_log_by_push_with_its_answer_and_can_be_redelivered()
    {
        var created = await Webhooks.CreateAsync(owner, acme, new WebhookDraft(receiver.Url, ["*"]), Ct);
        receiver.Secret = created.Secret;
        var page = Render<WebhookPage>(p => p.Add(x => x.SubscriptionId, created.Subscription.Id));
        page.WaitForElement("[data-testid=deliveries-empty]");

        await page.Find("[data-testid=webhook-test]").ClickAsync(new());
        var delivery = Assert.Single((await Webhooks.DeliveriesAsync(owner, created.Subscription.Id, Core.Common.PageRequest.First, Ct)).Items);
        page.WaitForAssertion(() => Assert.Equal("Pending", page.Find($"[data-testid=delivery-{delivery.Id}-state]").TextContent));

        // The dispatcher's pass publishes the outcome: the page re-reads it without being touched.
        await Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(Ct);

        page.WaitForAssertion(() => Assert.Equal("Succeeded", page.Find($"[data-testid=delivery-{delivery.Id}-state]").TextContent));
        Assert.Equal("200", page.Find($"[data-testid=delivery-{delivery.Id}-status]").TextContent);
        Assert.Equal("1", page.Find($"[data-testid=delivery-{delivery.Id}-attempts]").TextContent);
        Assert.True(Assert.Single(receiver.Received).Verified);

        await page.Find($"[data-testid=delivery-{delivery.Id}-redeliver]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=deliveries] tbody tr").Count));
    }

    [Fact]
    public async Task Another_tenants_owner_is_told_the_webhook_does_not_exist_and_gets_no_buttons()
    {
        var created = await Webhooks.CreateAsync(owner, acme, new WebhookDraft(receiver.Url, ["*"]), Ct);
        var users = Services.GetRequiredService<UserAdministration>();
        var stranger = await users.CreateAsync(Actor.System, new NewUser("owner@globex.test", "", []), Ct);
        var tenants = Services.GetRequiredService<TenantService>();
        var globex = await tenants.CreateAsync(Actor.System, "Globex", null, TenantQuota.Default, Ct);
        await tenants.AddMemberAsync(Actor.System, globex, "owner@globex.test", TenantRole.Owner, Ct);
        SignIn(stranger.UserId, "owner@globex.test");

        var page = Render<WebhookPage>(p => p.Add(x => x.SubscriptionId, created.Subscription.Id));

        page.WaitForAssertion(() => Assert.NotNull(page.FindComponent<Forbidden>()));
        Assert.Empty(page.FindAll("[data-testid=webhook-test]"));
        Assert.DoesNotContain(receiver.Url, page.Markup, StringComparison.Ordinal);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await receiver.DisposeAsync();
        await base.DisposeAsyncCore();
    }
}
