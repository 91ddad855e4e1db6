using VirtPortal.Core.Access;
using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Reconciliation;

/// <param name="HostName">The hypervisor host, or the database server, it was found on.</param>
/// <param name="OnDatabaseServer">A database's drift: nothing to adopt, and "restore" makes the database again.</param>
public sealed record DriftView(long Id, string HostName, Guid? ResourceId, Guid? TenantId, string DomainName, DriftKind Kind, string PortalView, string HypervisorView, DateTimeOffset DetectedAt,
    bool OnDatabaseServer = false);

/// <summary>The admins' drift inbox: accept the hypervisor's state, restore the portal's, or adopt an unknown domain.</summary>
public sealed class DriftService(IDbContextFactory<PortalDbContext> dbFactory, PortalAccess access, HypervisorRegistry registry, TimeProvider time, LiveUpdates live)
{
    [Requires(Permission.DriftManage)]
    public async Task<IReadOnlyList<DriftView>> ListOpenAsync(Actor actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DriftManage, AccessTarget.Portal, "view drift", ct);
        var hosts = await db.Hosts.AsNoTracking().ToDictionaryAsync(h => h.Id, h => h.Name, ct);
        foreach (var server in await db.DatabaseServers.AsNoTracking().Select(s => new { s.Id, s.Name }).ToListAsync(ct))
            hosts[server.Id] = server.Name;
        var drifts = await db.Drifts.AsNoTracking().Where(d => d.ResolvedAt == null).OrderBy(d => d.Id).ToListAsync(ct);
        var resourceIds = drifts.Where(d => d.ResourceId != null).Select(d => d.ResourceId!.Value).ToList();
        var tenants = await db.Resources.AsNoTracking().Where(r => resourceIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.TenantId, ct);
        return [.. drifts.Select(d => new DriftView(d.Id, hosts.GetValueOrDefault(d.HostId ?? d.DatabaseServerId ?? Guid.Empty) ?? "?", d.ResourceId,
            d.ResourceId is { } r ? tenants.GetValueOrDefault(r) : null, d.DomainName, d.Kind, d.PortalView, d.HypervisorView, d.DetectedAt, d.DatabaseServerId != null))];
    }

    /// <summary>The hypervisor is right: the portal's record takes its state (or, vanished, becomes Deleted).</summary>
    [Requires(Permission.DriftManage)]
    public async Task AcceptAsync(Actor actor, long driftId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DriftManage, AccessTarget.Portal, "accept drift", ct);
        var (drift, resource, host) = await LoadAsync(db, driftId, ct);
        if (resource is null)
            throw new PortalValidationException("", drift.DatabaseServerId is null
                ? "An unknown domain is adopted into a tenant, not accepted."
                : "A database the portal has no record of is not taken over: drop it on its server, or leave it.");
        if (host is null)
        {
            // A database gone from its server: its record follows, and its quota is free.
            if (drift.Kind != DriftKind.Vanished)
                throw new PortalValidationException("", "The server no longer shows this difference; wait for the next check.");
            ResourceLifecycle.DeleteRecord(resource, time.GetUtcNow());
            await ResolveAsync(db, actor, drift, resource, "accepted the server's state (the database is gone)", ct);
            return;
        }

        var domain = await registry.For(host).GetDomainAsync(resource.Id, ct);
        switch (drift.Kind)
        {
            case DriftKind.Vanished when domain is null:
                ResourceLifecycle.Observe(resource, ResourceState.Deleted, time.GetUtcNow());
                break;
            case DriftKind.StateChanged when domain is not null:
                ResourceLifecycle.Observe(resource, ResourceLifecycle.StateOf(domain.State), time.GetUtcNow());
                break;
            case DriftKind.Resized when domain is not null:
                (resource.VCpus, resource.RamMiB) = (domain.VCpus, domain.MemoryMiB);
                break;
            default:
                throw new PortalValidationException("", "The host no longer shows this difference; wait for the next reconciliation.");
        }

        await ResolveAsync(db, actor, drift, resource, "accepted the hypervisor's state", ct);
    }

    /// <summary>The portal is right: queue the operation that brings the host back to the portal's record.</summary>
    [Requires(Permission.DriftManage)]
    public async Task RestoreAsync(Actor actor, long driftId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DriftManage, AccessTarget.Portal, "restore drift", ct);
        var (drift, resource, _) = await LoadAsync(db, driftId, ct);
        if (resource is null)
            throw new PortalValidationException("", "An unknown domain has no portal state to restore.");
        var kind = drift.Kind switch
        {
            DriftKind.Vanished => OperationKind.Create,
            DriftKind.Resized => OperationKind.Resize,
            DriftKind.StateChanged => resource.State switch
            {
                ResourceState.Running => OperationKind.Start,
                ResourceState.Paused => OperationKind.Suspend,
                _ => OperationKind.ForceOff,
            },
            _ => throw new PortalValidationException("", "Nothing to restore."),
        };
        var now = time.GetUtcNow();
        var operation = Operation.Queue(resource, kind, actor.UserId, now);
        (operation.TargetVCpus, operation.TargetRamMiB) = (resource.VCpus, resource.RamMiB);
        db.Operations.Add(operation);
        await ResolveAsync(db, actor, drift, resource, $"restoring the portal's state ({kind})", ct);
    }

    /// <summary>Brings an unknown domain under a tenant: it becomes a resource of that tenant, as it is.</summary>
    [Requires(Permission.DriftManage)]
    public async Task AdoptAsync(Actor actor, long driftId, Guid tenantId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await access.RequireAsync(db, actor, Permission.DriftManage, AccessTarget.Portal, "adopt domain", ct);
        var (drift, resource, host) = await LoadAsync(db, driftId, ct);
        if (resource is not null || drift.Kind != DriftKind.Unknown)
            throw new PortalValidationException("", "Only unknown domains can be adopted.");
        if (host is null)
            throw new PortalValidationException("", "A database the portal has no record of is not taken over: drop it on its server, or leave it.");
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == tenantId && t.ArchivedAt == null, ct)
            ?? throw new PortalValidationException("TenantId", "Choose an active tenant.");
        var domain = await registry.For(host).GetDomainAsync(drift.DomainId, ct)
            ?? throw new PortalValidationException("", "The domain is gone from the host.");
        var name = domain.Name.ToLowerInvariant();
        if (RequestsNameError(name) is not null || await db.Resources.AnyAsync(r => r.TenantId == tenantId && r.Name == name && r.State != ResourceState.Deleted, ct))
            name = "adopted-" + domain.Id.ToString("N")[..8];
        var now = time.GetUtcNow();
        var adopted = new Resource
        {
            Id = domain.Id, TenantId = tenant.Id, Kind = ResourceKind.Vm, Name = name, VCpus = domain.VCpus, RamMiB = domain.MemoryMiB,
            State = ResourceLifecycle.StateOf(domain.State), CreatedAt = now, LeaseEndsAt = now.AddDays(30), HostId = host.Id,
            PlacementReason = $"adopted from {host.Name}", Version = 1,
        };
        db.Resources.Add(adopted);
        await ResolveAsync(db, actor, drift, adopted, $"adopted into {tenant.Name} as {name}", ct);
    }

    private static string? RequestsNameError(string name) => Requests.RequestDrafts.NameError(name);

    private async Task ResolveAsync(PortalDbContext db, Actor actor, Drift drift, Resource resource, string resolution, CancellationToken ct)
    {
        drift.ResolvedAt = time.GetUtcNow();
        drift.Resolution = $"{resolution} by {actor.Name}";
        ResourceLifecycle.Touch(resource);
        db.Record(time, actor, AuditActions.DriftResolved, $"domain {drift.DomainName}", resource.TenantId, $"{drift.Kind}: {resolution}");
        await db.SaveChangesAsync(ct);
        live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        live.Publish(new DriftChanged(drift.HostId ?? drift.DatabaseServerId ?? Guid.Empty));
    }

    /// <summary>The drift, its resource, and its hypervisor host (null for a database's drift).</summary>
    private static async Task<(Drift Drift, Resource? Resource, Host? Host)> LoadAsync(PortalDbContext db, long driftId, CancellationToken ct)
    {
        var drift = await db.Drifts.FirstOrDefaultAsync(d => d.Id == driftId && d.ResolvedAt == null, ct)
            ?? throw new PortalNotFoundException("That drift is already settled.");
        var resource = drift.ResourceId is { } id ? await db.Resources.FirstOrDefaultAsync(r => r.Id == id, ct) : null;
        var host = drift.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstAsync(h => h.Id == hostId, ct) : null;
        return (drift, resource, host);
    }
}
