using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Access;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Resources;

/// <summary>
/// One operation on a resource as its page lists it. <see cref="Error"/> is the plain sentence a member
/// reads for a failed operation; <see cref="HostWords"/> is the host's own text, only for those who read the
/// whole audit log (admins, helpdesk), as on the request page.
/// </summary>
public sealed record ResourceOperationView(
    Guid Id, OperationKind Kind, OperationState State, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt,
    string? Error, string? HostWords)
{
    /// <summary>The resource it acts on.</summary>
    public Guid ResourceId { get; init; }
}

/// <summary>
/// One resource's page: the row the tenant page shows (<see cref="Summary"/>, from <see cref="ResourceQueries"/>,
/// so what is added there shows here too), its recent operations, and its recent audit entries when the viewer
/// reads the tenant's audit log (null when they do not).
/// </summary>
public sealed record ResourceDetails(
    ResourceSummary Summary, DateTimeOffset CreatedAt, string PlacementReason,
    IReadOnlyList<ResourceOperationView> Operations, IReadOnlyList<AuditEntry>? Audit,
    Hosts.HostState? HostState, DateTimeOffset? HostLastSeenAt);

/// <summary>One resource for its own page (the VM page), for those who may view it.</summary>
public sealed class ResourceDetailsQueries(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, ResourceQueries resources)
{
    public const int RecentCount = 20;

    /// <summary>
    /// The resource's details. An unknown id and a resource of a tenant the actor may not see are refused
    /// alike (and audited); a deleted resource is not found.
    /// </summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<ResourceDetails> GetAsync(Actor actor, Guid resourceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var grant = await access.RequireAsync(actor, Permission.ResourceView, AccessTarget.Resource(resourceId), "view resource", ct);
        var tenantId = grant.TenantId ?? throw new PortalNotFoundException("This resource does not exist.");
        var row = await resources.RowAfterAccessAsync(resourceId, ct); // access was asked above, once
        if (row.Resource.WantedState == ResourceState.Deleted)
            throw new PortalNotFoundException("This resource was deleted.");
        var summary = row.Resource;

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resource = await db.Resources.AsNoTracking().Where(r => r.Id == resourceId)
            .Select(r => new { r.CreatedAt, r.PlacementReason }).FirstAsync(ct);
        var readsHostWords = await access.AllowsAsync(actor, Permission.AuditRead, AccessTarget.Portal, ct);
        var operations = await db.Operations.AsNoTracking().Where(o => o.ResourceId == resourceId)
            .OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).Take(RecentCount).ToListAsync(ct);

        IReadOnlyList<AuditEntry>? audit = null;
        if (await access.AllowsAsync(actor, Permission.AuditRead, AccessTarget.Tenant(tenantId), ct))
        {
            // Entries name a resource in words: its kind and name when it was acted on, its id when access was
            // refused. A later resource may take a deleted one's name, so only entries since this one was made count.
            var named = $"{summary.Kind} {summary.Name}";
            var byId = AccessTarget.Resource(resourceId).ToString();
            audit = await db.AuditEntries.AsNoTracking()
                .Where(e => e.TenantId == tenantId && (e.Target == named || e.Target == byId) && e.At >= resource.CreatedAt)
                .OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(RecentCount).ToListAsync(ct);
        }

        return new ResourceDetails(summary, resource.CreatedAt, resource.PlacementReason,
            [.. operations.Select(o => View(o, readsHostWords))], audit, row.HostState, row.HostLastSeenAt);
    }

    /// <summary>
    /// One operation (what a long action returns the id of, to follow it), for those who may view its resource;
    /// an unknown operation is refused like one of a resource the actor may not see.
    /// </summary>
    [Requires(Permission.ResourceView, AccessTargetKind.Resource)]
    public async Task<ResourceOperationView> GetOperationAsync(Actor actor, Guid operationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId, ct);
        // An unknown id asks about no resource (Guid.Empty), so the refusal looks the same as a forbidden one.
        await access.RequireAsync(db, actor, Permission.ResourceView, AccessTarget.Resource(operation?.ResourceId ?? Guid.Empty), "view operation", ct);
        var readsHostWords = await access.AllowsAsync(actor, Permission.AuditRead, AccessTarget.Portal, ct);
        return View(operation!, readsHostWords);
    }

    private static ResourceOperationView View(Operation operation, bool readsHostWords) => new(
        operation.Id, operation.Kind, operation.State, operation.Attempts, operation.CreatedAt, operation.FinishedAt,
        operation.State == OperationState.Failed ? new ProvisioningFailure(operation.FailureKind, "").PlainSentence(operation.Kind, operation.RequestId) : null,
        readsHostWords ? operation.LastError : null)
    {
        ResourceId = operation.ResourceId,
    };
}
