using System.Text.Json;
using System.Text.Json.Serialization;

namespace VirtPortal.Core.Webhooks;

/// <summary>The entity an event is about: its kind, id and version (for hosts and database servers, which keep none, the change's time in Unix milliseconds).</summary>
public sealed record WebhookEntity(string Kind, Guid Id, long Version);

/// <summary>Who caused the change: a user's id and name, or "system".</summary>
public sealed record WebhookActor(string Id, string Name);

/// <summary>
/// The body of every delivery: the event (id, type, time), its tenant (null for portal-wide things), who caused
/// it, the portal request behind it when there is one, the entity and its version, and what the entity is now.
/// </summary>
public sealed record WebhookPayload(
    Guid Id, string Type, DateTimeOffset OccurredAt, Guid? TenantId, WebhookActor Actor, Guid? RequestId, WebhookEntity Entity,
    IReadOnlyDictionary<string, object?> Data)
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
