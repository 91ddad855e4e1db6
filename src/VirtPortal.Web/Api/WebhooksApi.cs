using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VirtPortal.Core.Webhooks;

namespace VirtPortal.Web.Api;

/// <summary>A new subscription: for a tenant (its owners') or, without one, portal-wide (admins').</summary>
public sealed record WebhookCreateBody(
    [property: Description("The tenant whose events it gets; leave it out for a portal-wide subscription (admins).")] Guid? TenantId,
    [property: Description("Where events are POSTed: an http(s) URL of a public address.")] string Url,
    [property: Description("Event type patterns: request.completed, resource.*, *.failed, or * for all.")] IReadOnlyList<string> Events,
    [property: Description("What it is for.")] string? Description = null,
    [property: Description("False makes it paused from the start.")] bool Enabled = true)
{
    public WebhookDraft Draft => new(Url, Events, Description, Enabled);
}

/// <summary>
/// Webhook subscriptions: list, make (the signing secret is in that answer only), read, change with If-Match,
/// delete, give a new secret; their delivery logs; a test event and redeliveries, queued (202). Deliveries are
/// signed as Standard Webhooks has it (docs/decisions/0013-webhooks.md).
/// </summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/webhooks").WithTags("Webhooks").WithMetadata(new ApiSubject("webhook"));
        group.MapGet("/", ListAsync).WithName("ListWebhooks").WithMetadata(new ApiSubject("tenant"))
            .WithSummary("List the webhook subscriptions you may see")
            .WithDescription("Your tenants' for their owners, every one (portal-wide ones too) for admins and helpdesk, or the tenant named by tenantId. Never their secrets.")
            .WithExamples(response: ApiExamples.PageOf(WebhookExamples.View));
        group.MapPost("/", CreateAsync).WithName("CreateWebhook").WithMetadata(new ApiSubject("tenant"), ProtectedAnswer.Instance)
            .WithSummary("Subscribe a URL to events")
            .WithDescription("The answer holds the signing secret (whsec_…), once: keep it to verify the webhook-signature header. Without tenantId the subscription is portal-wide (admins) and may take host and database_server events.")
            .WithExamples(WebhookExamples.Create, WebhookExamples.Created);
        group.MapGet("/{id:guid}", GetAsync).WithName("GetWebhook").WithSummary("Get a webhook subscription")
            .WithDescription("The ETag is its version, for If-Match on changes.").WithExamples(response: WebhookExamples.View);
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateWebhook").WithSummary("Change a webhook subscription")
            .WithDescription("Replaces its URL, events, description and enabled flag; saving a failing subscription resumes it. With If-Match, only at that version (412 otherwise).")
            .WithMetadata(VersionedChange.Instance)
            .WithExamples(WebhookExamples.Draft, WebhookExamples.View);
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteWebhook").WithSummary("Delete a webhook subscription")
            .WithDescription("With its delivery log; what still waited is not sent.");
        group.MapPost("/{id:guid}/secret", RotateAsync).WithName("RotateWebhookSecret").WithMetadata(ProtectedAnswer.Instance).WithSummary("Give a webhook subscription a new signing secret")
            .WithDescription("The answer holds the new secret, once; deliveries from now on are signed with it.")
            .WithExamples(response: WebhookExamples.Created);
        group.MapGet("/{id:guid}/deliveries", DeliveriesAsync).WithName("ListWebhookDeliveries").WithSummary("List a subscription's deliveries")
            .WithDescription("Newest first, with their attempts, the last answer's status and how long it took.")
            .WithExamples(response: ApiExamples.PageOf(WebhookExamples.Delivery));
        group.MapPost("/{id:guid}/test", TestAsync).WithName("TestWebhook").WithSummary("Send a test event")
            .WithDescription("Queues a webhook.test event to this subscription alone (also while it is failing: a success resumes it). Answers 202 with the delivery and its Location.")
            .WithExamples(response: WebhookExamples.Delivery with { EventType = WebhookEventTypes.Test, EntityKind = "webhook" });
        group.MapGet("/deliveries/{id:guid}", GetDeliveryAsync).WithName("GetWebhookDelivery").WithSummary("Get one delivery")
            .WithExamples(response: WebhookExamples.Delivery);
        group.MapPost("/deliveries/{id:guid}/redeliver", RedeliverAsync).WithName("RedeliverWebhook").WithSummary("Send a delivery's event again")
            .WithDescription("As a new delivery with the same webhook-id, before newer events of the same entity that still wait. Answers 202 with the new delivery and its Location.")
            .WithExamples(response: WebhookExamples.Delivery with { IsRedelivery = true });
        return group;
    }

    public static string Location(Guid deliveryId) => PortalApi.Path($"/webhooks/deliveries/{deliveryId}");

    private static async Task<Ok<ApiPage<WebhookView>>> ListAsync(ClaimsPrincipal user, [AsParameters] PageQuery page, Guid? tenantId, WebhookService webhooks, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(Core.Common.Paging.Within(await webhooks.ListAsync(user.Actor(), tenantId, ct), page.ToRequest(), w => w.Id)));

    private static async Task<Created<CreatedWebhook>> CreateAsync(WebhookCreateBody body, ClaimsPrincipal user, HttpResponse response, WebhookService webhooks, CancellationToken ct)
    {
        var created = await webhooks.CreateAsync(user.Actor(), body.TenantId, body.Draft, ct);
        ApiVersions.Tag(response, created.Subscription.Version);
        return TypedResults.Created(PortalApi.Path($"/webhooks/{created.Subscription.Id}"), created);
    }

    private static async Task<Ok<WebhookView>> GetAsync(Guid id, ClaimsPrincipal user, HttpResponse response, WebhookService webhooks, CancellationToken ct)
    {
        var view = await webhooks.GetAsync(user.Actor(), id, ct);
        ApiVersions.Tag(response, view.Version);
        return TypedResults.Ok(view);
    }

    private static async Task<Ok<WebhookView>> UpdateAsync(Guid id, WebhookDraft draft, ClaimsPrincipal user, HttpRequest request, HttpResponse response, WebhookService webhooks, CancellationToken ct)
    {
        var view = await webhooks.UpdateAsync(user.Actor(), id, draft, ApiVersions.Expected(request), ct);
        ApiVersions.Tag(response, view.Version);
        return TypedResults.Ok(view);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct)
    {
        await webhooks.DeleteAsync(user.Actor(), id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<CreatedWebhook>> RotateAsync(Guid id, ClaimsPrincipal user, HttpResponse response, WebhookService webhooks, CancellationToken ct)
    {
        var rotated = await webhooks.RotateSecretAsync(user.Actor(), id, ct);
        ApiVersions.Tag(response, rotated.Subscription.Version);
        return TypedResults.Ok(rotated);
    }

    private static async Task<Ok<ApiPage<WebhookDeliveryView>>> DeliveriesAsync(Guid id, ClaimsPrincipal user, [AsParameters] PageQuery page, WebhookService webhooks, CancellationToken ct) =>
        TypedResults.Ok(PageQuery.Answer(await webhooks.DeliveriesAsync(user.Actor(), id, page.ToRequest(), ct)));

    private static async Task<Ok<WebhookDeliveryView>> GetDeliveryAsync(Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct) =>
        TypedResults.Ok(await webhooks.GetDeliveryAsync(user.Actor(), id, ct));

    private static async Task<Accepted<WebhookDeliveryView>> TestAsync(Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct)
    {
        var delivery = await webhooks.SendTestAsync(user.Actor(), id, ct);
        return TypedResults.Accepted(Location(delivery.Id), delivery);
    }

    private static async Task<Accepted<WebhookDeliveryView>> RedeliverAsync(Guid id, ClaimsPrincipal user, WebhookService webhooks, CancellationToken ct)
    {
        var delivery = await webhooks.RedeliverAsync(user.Actor(), id, ct);
        return TypedResults.Accepted(Location(delivery.Id), delivery);
    }
}

/// <summary>The OpenAPI examples of <see cref="WebhooksApi"/>, built from the records it answers with (as <see cref="ApiExamples"/>).</summary>
public static class WebhookExamples
{
    private static readonly Guid Tenant = Guid.Parse("019ae1f4-3b80-7d6c-9d2e-6c1f0a7b2d11");
    private static readonly Guid Subscription = Guid.Parse("019ae1f8-4a6e-7c8f-8dae-5f6a7b8c9da4");
    private static readonly Guid DeliveryId = Guid.Parse("019ae1f9-5b7f-7d90-9ebf-6a7b8c9dae15");
    private static readonly Guid EventId = Guid.Parse("019ae1f9-5b7f-7d91-8fc0-7b8c9daebf26");
    private static readonly Guid Resource = Guid.Parse("019ae1f5-1d3b-7f5c-9a7b-2c3d4e5f6a71");
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    public static WebhookCreateBody Create { get; } = new(Tenant, "https://hooks.example.com/virtportal", ["resource.*", "request.completed"], "chat notifications");

    public static WebhookDraft Draft { get; } = new("https://hooks.example.com/virtportal", ["resource.*", "request.*"], "chat notifications");

    public static WebhookView View { get; } = new(
        Subscription, Tenant, "Acme Research", "https://hooks.example.com/virtportal", "chat notifications", ["resource.*", "request.completed"], true,
        WebhookSubscriptionState.Active, null, "whsec_q3Zk…", At, 1);

    public static CreatedWebhook Created { get; } = new(View, "whsec_q3ZkV9mR2pL4tW8yB3nC6dF5gH2jK7sA1eQ0uV9xYzw=");

    public static WebhookDeliveryView Delivery { get; } = new(
        DeliveryId, Subscription, EventId, "resource.running", "vm", Resource, WebhookDeliveryState.Succeeded, 1, At, At.AddSeconds(1), null, 200, 84, null,
        At.AddSeconds(1), false, false);
}
