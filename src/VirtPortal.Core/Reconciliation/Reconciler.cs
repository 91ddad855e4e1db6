using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Reconciliation;

/// <summary>What one pass found.</summary>
public sealed record ReconcilePass(int Hosts, int NewDrifts, int Cleared, int Unreachable);

/// <summary>
/// Compares every host's domains with the portal's records. Differences become open <see cref="Drift"/>
/// rows (one per domain and kind); a difference that went away closes its row. Resources with an
/// operation in flight are skipped: their state is expected to change.
/// </summary>
public sealed partial class Reconciler(IDbContextFactory<PortalDbContext> dbFactory, HypervisorRegistry registry, LiveUpdates live, TimeProvider time, ILogger<Reconciler> logger)
{
    private static readonly Actor Self = new("reconciler", "reconciler", new HashSet<string>());

    public async Task<ReconcilePass> RunAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var hosts = await db.Hosts.Where(h => h.State != HostState.Maintenance).ToListAsync(ct);
        int added = 0, cleared = 0, unreachable = 0;
        var changedHosts = new HashSet<Guid>();
        var driftHosts = new HashSet<Guid>();
        var changedResources = new List<(Guid Id, Guid TenantId, long Version)>();
        foreach (var host in hosts)
        {
            IReadOnlyList<DomainInfo> domains;
            try
            {
                domains = await registry.For(host).ListDomainsAsync(ct);
                if (HostReachability.Answered(host, time.GetUtcNow()))
                    changedHosts.Add(host.Id);
                if (host.Cpus == 0 && await TryReadFactsAsync(host, ct))
                    changedHosts.Add(host.Id);
            }
            catch (HypervisorException e) when (e is HypervisorNotFoundException or HypervisorConflictException)
            {
                // The host answered, with an error about a domain on it: not a reason to stop placing there.
                host.LastError = e.Message;
                LogListFailed(e, host.Name);
                continue;
            }
            catch (HypervisorException e)
            {
                // Unreachable, or refusing us (no adapter here, access denied): nothing can be placed there.
                if (HostReachability.Failed(db, time, Self, host, e.Message))
                    changedHosts.Add(host.Id);
                unreachable++;
                changedResources.AddRange(await ResourceLifecycle.HostLostAsync(db, host.Id, time.GetUtcNow(), ct));
                continue;
            }

            // Read after this host's listing, never before: a create claimed meanwhile must count as in flight.
            // The operations first, then the resources: the worker ends an operation and records its
            // resource's state in one transaction, so an operation that ends between the two reads leaves
            // its resource in the second (Running), never in neither (a create's own domain called unknown).
            var busy = await BusyResourcesAsync(db, ct);
            var resources = await LiveResourcesAsync(db, host.Id, ct);
            // What the host says of each resource that runs no operation (one that does reports when it ends).
            var byId = domains.ToDictionary(d => d.Id);
            var reported = resources.Where(r => !busy.Contains(r.Id)).ToDictionary(
                r => r.Id, r => byId.TryGetValue(r.Id, out var domain) ? ResourceLifecycle.StateOf(domain.State) : ResourceState.Unknown);
            changedResources.AddRange(await ResourceLifecycle.ReportAsync(db, reported, time.GetUtcNow(), ct));
            var found = Compare(host, domains, resources, busy);
            await DescribeFormerResourcesAsync(db, found, ct);
            var open = await db.Drifts.Where(d => d.HostId == host.Id && d.ResolvedAt == null).ToListAsync(ct);
            foreach (var drift in found.Where(f => !open.Any(o => o.DomainId == f.DomainId && o.Kind == f.Kind)))
            {
                db.Add(drift);
                db.Record(time, Self, AuditActions.DriftDetected, $"domain {drift.DomainName}", null,
                    $"{drift.Kind} on {host.Name}: portal says {drift.PortalView}, hypervisor says {drift.HypervisorView}");
                added++;
                driftHosts.Add(host.Id);
            }

            foreach (var gone in open.Where(o => !found.Any(f => f.DomainId == o.DomainId && f.Kind == o.Kind)))
            {
                gone.ResolvedAt = time.GetUtcNow();
                gone.Resolution = "no longer differs";
                cleared++;
                driftHosts.Add(host.Id);
            }
        }

        await db.SaveChangesAsync(ct);
        foreach (var (id, tenantId, version) in changedResources)
            live.Publish(new ResourceChanged(tenantId, id, version));
        foreach (var id in changedHosts)
            live.Publish(new HostChanged(id));
        foreach (var id in driftHosts)
            live.Publish(new DriftChanged(id));
        if (added + cleared + unreachable > 0)
            LogPass(added, cleared, unreachable);
        return new ReconcilePass(hosts.Count, added, cleared, unreachable);
    }

    /// <summary>
    /// What a host's lifecycle event says of one domain, recorded at once: the resource's observed state
    /// and a pushed change, before the whole pass that follows (which lists the host, compares everything
    /// and records drift) runs. Only a live VM on that host with no operation in flight is reported, as in
    /// the pass; the pass then finds the state already recorded, so one change is published, not two.
    /// True when the observed state changed.
    /// </summary>
    public async Task<bool> ReportEventAsync(Guid hostId, DomainEvent change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var busy = await BusyResourcesAsync(db, ct);
        if (busy.Contains(change.Id))
            return false;
        if (!await LiveResourcesQuery(db, hostId).AnyAsync(r => r.Id == change.Id, ct))
            return false;
        var changed = await ResourceLifecycle.ReportAsync(db, new Dictionary<Guid, ResourceState> { [change.Id] = ResourceLifecycle.StateOf(change.State) }, time.GetUtcNow(), ct);
        foreach (var (id, tenantId, version) in changed)
            live.Publish(new ResourceChanged(tenantId, id, version));
        return changed.Count > 0;
    }

    /// <summary>
    /// A host registered while it did not answer has no capacity yet, so placement would pass it by:
    /// read its facts once it answers. Failing that, the next pass tries again. Its facts say whether
    /// KVM runs guests there; a host whose domain type follows that gets its type now, before any VM
    /// is placed on it, and an adapter made for that type.
    /// </summary>
    private async Task<bool> TryReadFactsAsync(Host host, CancellationToken ct)
    {
        try
        {
            var facts = await registry.For(host).GetHostFactsAsync(ct);
            (host.Cpus, host.MemoryMiB, host.StorageGiB) = (facts.Cpus, facts.MemoryMiB, facts.StorageCapacityGiB);
            if (HostAcceleration.Apply(host, facts))
                await registry.EvictAsync(host.Id);
            return true;
        }
        catch (HypervisorException e)
        {
            LogFactsFailed(host.Name, e.Message);
            return false;
        }
    }

    private List<Drift> Compare(Host host, IReadOnlyList<DomainInfo> domains, List<Resource> resources, HashSet<Guid> busy)
    {
        var now = time.GetUtcNow();
        var drifts = new List<Drift>();
        var byId = domains.ToDictionary(d => d.Id);
        foreach (var resource in resources.Where(r => !busy.Contains(r.Id)))
        {
            Drift New(DriftKind kind, string portal, string hypervisor) => new()
            {
                HostId = host.Id, ResourceId = resource.Id, DomainId = resource.Id, DomainName = ResourceLifecycle.DomainName(resource),
                Kind = kind, PortalView = portal, HypervisorView = hypervisor, DetectedAt = now,
            };

            if (!byId.TryGetValue(resource.Id, out var domain))
            {
                drifts.Add(New(DriftKind.Vanished, resource.State.ToString(), "no such domain"));
                continue;
            }

            if (ResourceLifecycle.StateOf(domain.State) != ResourceLifecycle.ExpectedOnHost(resource.State))
                drifts.Add(New(DriftKind.StateChanged, resource.State.ToString(), domain.State.ToString()));
            if (domain.VCpus != resource.VCpus || domain.MemoryMiB != resource.RamMiB)
                drifts.Add(New(DriftKind.Resized, $"{resource.VCpus} vCPU, {resource.RamMiB} MiB", $"{domain.VCpus} vCPU, {domain.MemoryMiB} MiB"));
        }

        // A domain of a resource with an operation in flight is the portal's own, mid-change (a create
        // defines it paused, then runs it): never unknown.
        var known = resources.Select(r => r.Id).Concat(busy).ToHashSet();
        drifts.AddRange(domains.Where(d => !known.Contains(d.Id)).Select(d => new Drift
        {
            HostId = host.Id, DomainId = d.Id, DomainName = d.Name, Kind = DriftKind.Unknown,
            PortalView = "not a portal resource", HypervisorView = $"{d.State}, {d.VCpus} vCPU, {d.MemoryMiB} MiB", DetectedAt = now,
        }));
        return drifts;
    }

    /// <summary>
    /// An unknown domain whose UUID is a resource the portal no longer runs (failed, deleted) says so,
    /// rather than "not a portal resource".
    /// </summary>
    private static async Task DescribeFormerResourcesAsync(PortalDbContext db, List<Drift> found, CancellationToken ct)
    {
        var unknown = found.Where(d => d.Kind == DriftKind.Unknown).ToList();
        if (unknown.Count == 0)
            return;
        var ids = unknown.Select(d => d.DomainId).ToList();
        var former = await db.Resources.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        foreach (var drift in unknown)
        {
            if (former.TryGetValue(drift.DomainId, out var resource))
                drift.PortalView = $"portal resource {resource.Name}, {resource.State.ToString().ToLowerInvariant()}";
        }
    }

    private static Task<List<Resource>> LiveResourcesAsync(PortalDbContext db, Guid hostId, CancellationToken ct) =>
        LiveResourcesQuery(db, hostId).ToListAsync(ct);

    private static IQueryable<Resource> LiveResourcesQuery(PortalDbContext db, Guid hostId) =>
        db.Resources.AsNoTracking()
            .Where(r => r.HostId == hostId && r.Kind == ResourceKind.Vm
                        && r.State != ResourceState.Deleted && r.State != ResourceState.Failed && r.State != ResourceState.Provisioning && r.State != ResourceState.Deleting);

    private static async Task<HashSet<Guid>> BusyResourcesAsync(PortalDbContext db, CancellationToken ct) =>
        [.. await db.Operations.AsNoTracking()
            .Where(o => o.State == OperationState.Pending || o.State == OperationState.Running)
            .Select(o => o.ResourceId).Distinct().ToListAsync(ct)];

    [LoggerMessage(LogLevel.Warning, "Reconciler: listing the domains of {Host} failed")]
    private partial void LogListFailed(Exception exception, string host);

    [LoggerMessage(LogLevel.Warning, "Host {Host} answers but its facts could not be read: {Error}")]
    private partial void LogFactsFailed(string host, string error);

    [LoggerMessage(LogLevel.Information, "Reconciler: {Added} new drift(s), {Cleared} cleared, {Unreachable} host(s) unreachable")]
    private partial void LogPass(int added, int cleared, int unreachable);
}
