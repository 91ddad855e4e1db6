using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Databases;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// The outbox's writer: in every SaveChanges of the portal's context, each request, resource, host and database
/// server that is added, removed, or whose state or version changed gets a <see cref="WebhookEvent"/> added to the
/// same SaveChanges, and so to the same transaction: the change and its event are committed together or not at all.
/// The actor is the one of the audit entries written with the change ("system" without one). Once committed, the
/// dispatcher is woken (<see cref="WebhookSignal"/>).
/// </summary>
public sealed class WebhookOutboxInterceptor(TimeProvider time, WebhookSignal signal) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        Stage(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        Stage(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (eventData.Context is { } context)
            signal.Committed(context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (eventData.Context is { } context)
            signal.Committed(context);
        return ValueTask.FromResult(result);
    }

    private void Stage(DbContext? context)
    {
        if (context is not PortalDbContext db)
            return;
        db.ChangeTracker.DetectChanges();
        var entries = db.ChangeTracker.Entries().Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted).ToList();
        var audit = entries.Select(e => e.Entity).OfType<AuditEntry>().FirstOrDefault(a => a.Action != AuditActions.AccessDenied);
        var operations = entries.Select(e => e.Entity).OfType<Operation>().ToList();
        var requests = entries.Select(e => e.Entity).OfType<Request>().ToList();
        var now = time.GetUtcNow();
        var events = new List<WebhookEvent>();
        foreach (var entry in entries)
        {
            var change = entry.Entity switch
            {
                Request r => Describe(entry, "request", "request", r.Id, r.TenantId, r.Version, r.State.ToString(), r.Id,
                    new Dictionary<string, object?> { ["name"] = r.Name, ["kind"] = r.Kind, ["state"] = r.State, ["stage"] = r.CurrentStage, ["stageCount"] = r.StageCount }),
                Resource r => Describe(entry, r.Kind == ResourceKind.Vm ? "resource" : "database", r.Kind == ResourceKind.Vm ? "vm" : "database",
                    r.Id, r.TenantId, r.Version, r.State.ToString(), RequestBehind(r, entry.State, operations, requests),
                    WebhookOutbox.Data(r)),
                Host h => Describe(entry, "host", "host", h.Id, null, now.ToUnixTimeMilliseconds(), h.State.ToString(), null,
                    new Dictionary<string, object?> { ["name"] = h.Name, ["state"] = h.State }, versioned: false),
                DatabaseServer s => Describe(entry, "database_server", "database_server", s.Id, null, now.ToUnixTimeMilliseconds(), s.State.ToString(), null,
                    new Dictionary<string, object?> { ["name"] = s.Name, ["engine"] = s.Engine, ["state"] = s.State }, versioned: false),
                _ => null,
            };
            if (change is null)
                continue;
            var id = Guid.CreateVersion7(now);
            var actor = audit is not null ? new WebhookActor(audit.ActorId, audit.ActorName)
                : operations.FirstOrDefault(o => o.ResourceId == change.Entity.Id) is { } op ? new WebhookActor(op.RequestedBy, op.RequestedBy)
                : new WebhookActor("system", "system");
            var payload = new WebhookPayload(id, change.Type, now, change.TenantId, actor, change.RequestId, change.Entity, change.Data);
            events.Add(new WebhookEvent
            {
                Id = id, Type = change.Type, OccurredAt = now, EntityKind = change.Entity.Kind, EntityId = change.Entity.Id, TenantId = change.TenantId,
                Payload = payload.ToJson(),
            });
        }

        if (events.Count == 0)
            return;
        db.AddRange(events);
        signal.Wrote(db);
    }

    private sealed record Change(string Type, Guid? TenantId, WebhookEntity Entity, Guid? RequestId, IReadOnlyDictionary<string, object?> Data);

    /// <summary>What happened to the entity in this SaveChanges, or null when nothing events are about changed.</summary>
    private static Change? Describe(
        EntityEntry entry, string prefix, string kind, Guid id, Guid? tenantId, long version, string state, Guid? requestId,
        IReadOnlyDictionary<string, object?> data, bool versioned = true)
    {
        string? what = entry.State switch
        {
            EntityState.Added => "created",
            EntityState.Deleted => "removed",
            _ when entry.Property("State").IsModified && !Equals(entry.Property("State").OriginalValue, entry.Property("State").CurrentValue) =>
                WebhookEventTypes.Snake(state),
            _ when entry.Entity is Resource && entry.Property("ObservedState").IsModified && !Equals(entry.Property("ObservedState").OriginalValue, entry.Property("ObservedState").CurrentValue) =>
                "observed",
            _ when versioned && entry.Property("Version").IsModified && !Equals(entry.Property("Version").OriginalValue, entry.Property("Version").CurrentValue) =>
                "updated",
            _ => null,
        };
        return what is null ? null : new Change($"{prefix}.{what}", tenantId, new WebhookEntity(kind, id, version), requestId, data);
    }

    /// <summary>The portal request behind a resource's change: its operation's, a request changed with it, or the one that made it.</summary>
    private static Guid? RequestBehind(Resource resource, EntityState state, List<Operation> operations, List<Request> requests) =>
        operations.FirstOrDefault(o => o.ResourceId == resource.Id && o.RequestId is not null)?.RequestId
        ?? requests.FirstOrDefault(r => r.ResourceId == resource.Id)?.Id
        ?? (state == EntityState.Added ? resource.RequestId : null);
}

/// <summary>
/// Outbox rows for changes the change tracker does not see: what hosts report of their resources is written with
/// bulk updates (<see cref="ResourceLifecycle.ReportAsync"/>), which stage their <c>observed</c> events here and save
/// them in the bulk updates' own transaction.
/// </summary>
public static class WebhookOutbox
{
    /// <summary>What a resource's events say of it now.</summary>
    public static IReadOnlyDictionary<string, object?> Data(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return new Dictionary<string, object?>
        {
            ["name"] = resource.Name, ["state"] = resource.State, ["observedState"] = resource.ObservedState, ["vCpus"] = resource.VCpus,
            ["ramMiB"] = resource.RamMiB, ["diskGiB"] = resource.DiskGiB, ["leaseEndsAt"] = resource.LeaseEndsAt,
        };
    }

    /// <summary>Adds a <c>resource.observed</c> (or <c>database.observed</c>) event per resource to <paramref name="db"/>'s change set.</summary>
    public static void StageObserved(PortalDbContext db, IEnumerable<Resource> resources, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(resources);
        foreach (var r in resources)
        {
            var id = Guid.CreateVersion7(at);
            var type = (r.Kind == ResourceKind.Vm ? "resource" : "database") + ".observed";
            var entity = new WebhookEntity(r.Kind == ResourceKind.Vm ? "vm" : "database", r.Id, r.Version);
            var payload = new WebhookPayload(id, type, at, r.TenantId, new WebhookActor("system", "system"), null, entity, Data(r));
            db.WebhookEvents.Add(new WebhookEvent
            {
                Id = id, Type = type, OccurredAt = at, EntityKind = entity.Kind, EntityId = r.Id, TenantId = r.TenantId, Payload = payload.ToJson(),
            });
        }
    }
}

/// <summary>Wakes the dispatcher when a transaction that wrote outbox rows commits (<see cref="WebhookSignal"/>).</summary>
public sealed class WebhookCommitInterceptor(WebhookSignal signal) : DbTransactionInterceptor
{
    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (eventData.Context is { } context)
            signal.TransactionCommitted(context);
    }

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (eventData.Context is { } context)
            signal.TransactionCommitted(context);
        return Task.CompletedTask;
    }
}
