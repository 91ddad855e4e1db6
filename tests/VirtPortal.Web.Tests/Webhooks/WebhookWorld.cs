using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Webhooks;
using VirtPortal.Web.Tests.Api;

namespace VirtPortal.Web.Tests.Webhooks;

/// <summary>What the generated API tests aim the webhook endpoints at: Acme's subscription to a port nothing listens on, and a test delivery of it.</summary>
public static class WebhookWorld
{
    /// <summary>The discard port: connections are refused at once, so its deliveries fail quietly and retry.</summary>
    public const string Url = "http://127.0.0.1:9/hooks";

    public static async Task<(Guid Subscription, Guid Delivery)> ArrangeAsync(ApiPortal portal, Guid acme)
    {
        var ct = TestContext.Current.CancellationToken;
        var webhooks = portal.Services.GetRequiredService<WebhookService>();
        var owner = await portal.ActorAsync(ApiPortal.Owner);
        // One subscription for every test of a portal, so that the tenant's limit is never reached.
        var subscription = (await webhooks.ListAsync(owner, acme, ct)).FirstOrDefault(w => w.Url == Url)?.Id
            ?? (await webhooks.CreateAsync(owner, acme, new WebhookDraft(Url, ["*"], "API contract tests"), ct)).Subscription.Id;
        var delivery = await webhooks.SendTestAsync(owner, subscription, ct);
        return (subscription, delivery.Id);
    }
}
