using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Provisioning;

public sealed class ProvisioningOptions
{
    public const string Section = "Provisioning";

    /// <summary>How long a claimed operation is a worker's; after that another worker takes it over.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00", ErrorMessage = "Provisioning:LeaseDuration must be between 5 seconds and 1 hour.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    [Range(1, 100, ErrorMessage = "Provisioning:MaxAttempts must be between 1 and 100.")]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How often an idle worker looks at the queue (work queued in this process wakes it at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Provisioning:IdleDelay must be between 50 ms and 1 minute.")]
    public TimeSpan IdleDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a resize waits for a running guest to power off after the power button; keep it under the lease.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:30:00", ErrorMessage = "Provisioning:ResizeShutdownTimeout must be between 5 seconds and 30 minutes.")]
    public TimeSpan ResizeShutdownTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How many operations run at once on one host (as Nova's max_concurrent_builds); one resource's run strictly in order.</summary>
    [Range(1, 64, ErrorMessage = "Provisioning:MaxConcurrentPerHost must be between 1 and 64.")]
    public int MaxConcurrentPerHost { get; set; } = 4;

    /// <summary>How long the portal waits for one operation's hypervisor calls before it fails the operation as timed out.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "02:00:00", ErrorMessage = "Provisioning:OperationTimeout must be between 10 seconds and 2 hours.")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Turns queued operations into hypervisor calls. A worker claims the oldest runnable operation (one
/// at a time per resource, at most <see cref="ProvisioningOptions.MaxConcurrentPerHost"/> per host) with
/// a time-limited lease that it renews while it works, so a crashed worker's operation is taken over when
/// its lease expires, or at once by a worker of the same machine once the process is gone. Adapter calls
/// are idempotent, so a retry after a crash finds what the first attempt did, and an operation succeeds
/// only when the host shows the state it asked for. Every attempt and error is recorded on the operation
/// and in the audit log.
/// </summary>
public sealed partial class ProvisioningService(
    IDbContextFactory<PortalDbContext> dbFactory, HypervisorRegistry registry, LiveUpdates live, TimeProvider time,
    IOptions<ProvisioningOptions> options, IOptions<FaultInjectionOptions> faults, ILogger<ProvisioningService> logger)
{
    private static readonly Actor Worker = new("provisioning", "provisioning", new HashSet<string>());

    private int faultHits;

    /// <summary>Test hook: called at named steps ("claimed", "placed", "defined", "started", "called"); throwing there simulates a crash.</summary>
    internal Func<string, Task>? CrashPoint { get; set; }

    /// <summary>Claims and runs one operation; false when none is runnable.</summary>
    public async Task<bool> RunOnceAsync(string workerId, CancellationToken ct)
    {
        var claimed = await ClaimNextAsync(workerId, ct);
        if (claimed is null)
            return false;
        await ExecuteAsync(claimed.Value, workerId, ct);
        return true;
    }

    /// <summary>
    /// Claims the oldest runnable operation whose host has a free slot, placing its resource first when it
    /// has no host yet. Placement happens here, inside the claim's transaction (SQLite takes the write lock
    /// at BEGIN), so concurrent workers never count the same free capacity twice. Null when nothing can run.
    /// </summary>
    internal async Task<Guid?> ClaimNextAsync(string workerId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        // The oldest open operation of each resource runs first; a resource runs one operation at a time.
        var candidates = await db.Operations
            .Where(o => (o.State == OperationState.Pending && (o.NotBefore == null || o.NotBefore <= now))
                        || (o.State == OperationState.Running && o.LeaseExpiresAt < now))
            .Where(o => !db.Operations.Any(x => x.ResourceId == o.ResourceId && x.Id != o.Id
                        && (x.State == OperationState.Pending || x.State == OperationState.Running) && x.CreatedAt < o.CreatedAt))
            .OrderBy(o => o.CreatedAt)
            .Take(64)
            .ToListAsync(ct);
        if (candidates.Count == 0)
            return null;

        var limit = options.Value.MaxConcurrentPerHost;
        var leased = await db.Operations.AsNoTracking()
            .Where(o => o.State == OperationState.Running && o.LeaseExpiresAt >= now)
            .Join(db.Resources, o => o.ResourceId, r => r.Id, (o, r) => new { o.ResourceId, r.HostId })
            .ToListAsync(ct);
        var busyResources = leased.Select(l => l.ResourceId).ToHashSet();
        var busy = leased.Select(l => l.HostId).OfType<Guid>().GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count());
        bool HasSlot(Guid hostId) => busy.GetValueOrDefault(hostId) < limit;
        // Operations queued in the same instant pass the query's "no earlier one" together: the first by id goes.
        candidates = [.. candidates.GroupBy(o => o.ResourceId).Select(g => g.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id).First())
            .Where(o => !busyResources.Contains(o.ResourceId)).OrderBy(o => o.CreatedAt).ThenBy(o => o.Id)];

        List<HostLoad>? loads = null;
        foreach (var operation in candidates)
        {
            var resource = await db.Resources.FirstAsync(r => r.Id == operation.ResourceId, ct);
            if (resource.HostId is { } hostId)
            {
                if (!HasSlot(hostId))
                    continue;
            }
            else if (operation.Kind != OperationKind.Delete)
            {
                loads ??= await HostService.LoadsAsync(db, ct);
                var decision = Placement.Choose([.. loads.Where(l => HasSlot(l.Host.Id))], resource.VCpus, resource.RamMiB, resource.DiskGiB);
                if (decision.Host is null)
                {
                    var anywhere = Placement.Choose(loads, resource.VCpus, resource.RamMiB, resource.DiskGiB);
                    if (anywhere.Host is not null)
                        continue; // There is room, but every host with room is busy: wait for a slot.
                    // No host has room at all: claim it, and the run fails it with this reason.
                    resource.PlacementReason = anywhere.Reason;
                }
                else
                {
                    resource.HostId = decision.Host.Id;
                    resource.PlacementReason = decision.Reason;
                    db.Record(time, Worker, AuditActions.ResourcePlaced, $"{resource.Kind} {resource.Name}", resource.TenantId, decision.Reason);
                }
            }

            await ClaimAsync(db, operation, workerId, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            if (operation.RequestId is { } id)
                live.Publish(new RequestChanged(operation.TenantId, id, 0));
            return operation.Id;
        }

        return null;
    }

    private async Task ClaimAsync(PortalDbContext db, Operation operation, string workerId, DateTimeOffset now, CancellationToken ct)
    {
        var takenOver = operation.State == OperationState.Running;
        var previous = operation.LeaseOwner;
        operation.State = OperationState.Running;
        operation.LeaseOwner = workerId;
        operation.LeaseExpiresAt = now + options.Value.LeaseDuration;
        operation.Attempts++;
        db.Record(time, Worker, takenOver ? AuditActions.OperationTakenOver : AuditActions.OperationStarted, Target(operation), operation.TenantId,
            $"{operation.Kind}, attempt {operation.Attempts}{(takenOver ? $", from {previous} whose lease had expired or whose process had ended" : "")}");

        if (operation.RequestId is { } requestId && operation.Kind is OperationKind.Create or OperationKind.Resize)
        {
            var request = await db.Requests.FirstOrDefaultAsync(r => r.Id == requestId, ct);
            if (request?.State == RequestState.Approved)
            {
                request.State = RequestState.Provisioning;
                request.Version++;
                db.RequestEvents.Add(new RequestEvent
                {
                    RequestId = request.Id, At = now, ActorId = Worker.UserId, ActorName = Worker.Name,
                    From = RequestState.Approved, To = RequestState.Provisioning, Message = $"{operation.Kind} started",
                });
                db.Record(time, Worker, AuditActions.RequestMovedTo(RequestState.Provisioning), $"request {request.Id}", request.TenantId);
            }
        }
    }

    /// <summary>
    /// Ends the leases of workers of this machine whose process is gone (<paramref name="self"/> tells), so
    /// their operations are claimed at once rather than when the lease runs out. Returns how many.
    /// </summary>
    public async Task<int> ReclaimFromDeadProcessesAsync(WorkerIdentity self, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(self);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        var leased = await db.Operations
            .Where(o => o.State == OperationState.Running && o.LeaseExpiresAt >= now && o.LeaseOwner != null)
            .ToListAsync(ct);
        var reclaimed = 0;
        foreach (var operation in leased)
        {
            if (WorkerIdentity.TryParse(operation.LeaseOwner) is not { } owner || !self.OutlivedOnThisMachine(owner))
                continue;
            // Expired now: the next claim takes it over, by the ordinary path and its audit entry.
            operation.LeaseExpiresAt = now - TimeSpan.FromTicks(1);
            db.Record(time, Worker, AuditActions.OperationReclaimed, Target(operation), operation.TenantId,
                $"{operation.Kind}: its worker's process ({owner.ProcessId} on {owner.Machine}) is gone; taken back without waiting for the lease");
            reclaimed++;
        }

        if (reclaimed > 0)
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            LogReclaimed(reclaimed);
        }

        return reclaimed;
    }

    /// <summary>Runs a claimed operation to its outcome, renewing its lease meanwhile.</summary>
    internal async Task ExecuteAsync(Guid operationId, string workerId, CancellationToken ct)
    {
        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewing = RenewLeaseAsync(operationId, workerId, renewal.Token);
        try
        {
            await RunClaimedAsync(operationId, workerId, ct);
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
        }
    }

    private async Task RunClaimedAsync(Guid operationId, string workerId, CancellationToken ct)
    {
        await Step("claimed");
        Operation operation;
        Resource resource;
        Host? host;
        string imageRef;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            operation = await db.Operations.AsNoTracking().FirstAsync(o => o.Id == operationId, ct);
            resource = await db.Resources.AsNoTracking().FirstAsync(r => r.Id == operation.ResourceId, ct);
            var templateId = resource.TemplateId;
            imageRef = templateId is null
                ? resource.Kind.ToString().ToLowerInvariant()
                : await db.VmTemplates.Where(t => t.Id == templateId).Select(t => t.ImageRef).FirstOrDefaultAsync(ct) ?? "";
            host = resource.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == hostId, ct) : null;
        }

        if (host is null)
        {
            if (operation.Kind == OperationKind.Delete)
                await FinishAsync(operationId, workerId, null, ResourceState.Deleted, ct); // Never placed: nothing exists on any host.
            else
                await FailAsync(operationId, workerId, new ProvisioningFailure(FailureKind.NoCapacity, resource.PlacementReason ?? "No host has room."), ct);
            return;
        }

        await Step("placed");
        ResourceState after;
        try
        {
            var hypervisor = registry.For(host);
            after = await CallAsync(hypervisor, operation, resource, imageRef, ct).WaitAsync(options.Value.OperationTimeout, time, ct);
        }
        catch (HypervisorException e)
        {
            await RetryOrFailAsync(operationId, workerId, e, ct);
            return;
        }
        catch (TimeoutException)
        {
            await FailAsync(operationId, workerId, new ProvisioningFailure(FailureKind.TimedOut,
                $"{host.Name} did not finish {operation.Kind} of {resource.Name} within {options.Value.OperationTimeout.TotalSeconds:0} s (Provisioning:OperationTimeout)."), ct);
            return;
        }

        await Step("called");
        await FinishAsync(operationId, workerId, host, after, ct);
    }

    /// <summary>Keeps the lease ahead of the clock while the operation runs, so no other worker takes over work in progress.</summary>
    private async Task RenewLeaseAsync(Guid operationId, string workerId, CancellationToken ct)
    {
        var lease = options.Value.LeaseDuration;
        try
        {
            while (true)
            {
                await Task.Delay(lease / 3, time, ct);
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                var until = time.GetUtcNow() + lease;
                var renewed = await db.Operations
                    .Where(o => o.Id == operationId && o.LeaseOwner == workerId && o.State == OperationState.Running)
                    .ExecuteUpdateAsync(u => u.SetProperty(o => o.LeaseExpiresAt, until), ct);
                if (renewed == 0)
                    return; // Finished, or taken over after all.
            }
        }
        catch (OperationCanceledException)
        {
            // The operation ended.
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException)
        {
            // The database was busy past its timeout: the lease may lapse, and a takeover then finds what this attempt did.
            LogRenewFailed(e, operationId);
        }
    }

    private async Task<ResourceState> CallAsync(IHypervisor hypervisor, Operation operation, Resource resource, string imageRef, CancellationToken ct)
    {
        var id = resource.Id;
        switch (operation.Kind)
        {
            case OperationKind.Create:
                // Two steps, each found again by a retry: a domain defined by a process that died before
                // starting it is started now, and only a domain the host shows running counts as created.
                var domain = await hypervisor.GetDomainAsync(id, ct)
                    ?? await hypervisor.DefineAsync(new DomainSpec(id, DomainName(resource), resource.VCpus, resource.RamMiB, resource.DiskGiB, imageRef), ct);
                await Step("defined");
                await hypervisor.EnsureRunningAsync(domain, ct);
                await Step("started");
                return await ObservedAsync(hypervisor, resource, operation.Kind, DomainState.Running, ct);
            case OperationKind.Delete:
                await hypervisor.DeleteAsync(id, ct);
                return ResourceState.Deleted;
            case OperationKind.Start:
                await hypervisor.StartAsync(id, ct);
                return await ObservedAsync(hypervisor, resource, operation.Kind, DomainState.Running, ct);
            case OperationKind.Shutdown:
                await hypervisor.ShutdownAsync(id, ct); // The guest powers off in its own time; the reconciler follows.
                break;
            case OperationKind.ForceOff:
                await hypervisor.ForceOffAsync(id, ct);
                return await ObservedAsync(hypervisor, resource, operation.Kind, DomainState.Shutoff, ct);
            case OperationKind.Reboot:
                await hypervisor.RebootAsync(id, ct);
                break;
            case OperationKind.Suspend:
                await hypervisor.SuspendAsync(id, ct);
                return await ObservedAsync(hypervisor, resource, operation.Kind, DomainState.Paused, ct);
            case OperationKind.Resume:
                await hypervisor.ResumeAsync(id, ct);
                return await ObservedAsync(hypervisor, resource, operation.Kind, DomainState.Running, ct);
            case OperationKind.Resize:
                await ResizeAsync(hypervisor, resource, operation.TargetVCpus ?? resource.VCpus, operation.TargetRamMiB ?? resource.RamMiB, ct);
                break;
        }

        var info = await hypervisor.GetDomainAsync(id, ct) ?? throw new HypervisorNotFoundException($"domain {id} vanished during {operation.Kind}");
        return Map(info.State);
    }

    /// <summary>The state the host reports once the call returned; anything but <paramref name="wanted"/> is an attempt that did not work.</summary>
    private static async Task<ResourceState> ObservedAsync(IHypervisor hypervisor, Resource resource, OperationKind kind, DomainState wanted, CancellationToken ct)
    {
        var info = await hypervisor.GetDomainAsync(resource.Id, ct) ?? throw new HypervisorNotFoundException($"{resource.Name} vanished during {kind}.");
        if (info.State != wanted)
            throw new GuestStateException($"{kind} of {resource.Name} returned, but the host shows it {info.State}, not {wanted}.");
        return Map(info.State);
    }

    /// <summary>
    /// Hypervisors resize a shut-off guest, so a running one is shut down politely, resized and started
    /// again (as OpenStack's resize does). Whether to start it again comes from the portal's record, which
    /// says Running until this operation finishes, so a retry after a crash between the steps ends the same.
    /// </summary>
    private async Task ResizeAsync(IHypervisor hypervisor, Resource resource, int vcpus, int memoryMiB, CancellationToken ct)
    {
        var id = resource.Id;
        var domain = await hypervisor.GetDomainAsync(id, ct) ?? throw new HypervisorNotFoundException($"{resource.Name} is gone from its host.");
        if (domain.State is DomainState.Paused or DomainState.PMSuspended)
            throw new OperationPreconditionException($"{resource.Name} is paused: resume it or shut it down, then ask for the resize again.");
        if (domain.State == DomainState.Running)
        {
            await hypervisor.ShutdownAsync(id, ct);
            var deadline = time.GetUtcNow() + options.Value.ResizeShutdownTimeout;
            while ((await hypervisor.GetDomainAsync(id, ct))?.State is not DomainState.Shutoff)
            {
                if (time.GetUtcNow() >= deadline)
                    throw new OperationPreconditionException(
                        $"{resource.Name} did not power off within {options.Value.ResizeShutdownTimeout.TotalSeconds:0} s of the power button; shut it down (or force it off) and ask for the resize again.")
                    { Kind = FailureKind.TimedOut };
                await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
            }
        }

        await hypervisor.ResizeAsync(id, vcpus, memoryMiB, ct);
        if (resource.State == ResourceState.Running)
            await hypervisor.StartAsync(id, ct);
    }

    /// <summary>libvirt's name for the domain: "vp-" and the random tail of the resource id.</summary>
    public static string DomainName(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return "vp-" + resource.Id.ToString("N")[20..];
    }

    public static ResourceState Map(DomainState state) => state switch
    {
        DomainState.Running => ResourceState.Running,
        DomainState.Paused => ResourceState.Paused,
        DomainState.Shutoff => ResourceState.Shutoff,
        DomainState.Crashed => ResourceState.Crashed,
        DomainState.PMSuspended => ResourceState.PMSuspended,
        _ => ResourceState.Unknown,
    };

    private async Task FinishAsync(Guid operationId, string workerId, Host? host, ResourceState after, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var operation = await db.Operations.FirstAsync(o => o.Id == operationId, ct);
        if (operation.LeaseOwner != workerId || operation.State != OperationState.Running)
            return; // Our lease expired and another worker took over; it records the outcome.
        var resource = await db.Resources.FirstAsync(r => r.Id == operation.ResourceId, ct);
        var now = time.GetUtcNow();
        operation.State = OperationState.Succeeded;
        operation.FinishedAt = now;
        operation.LeaseOwner = null;
        operation.LeaseExpiresAt = null;
        operation.LastError = null;
        // An expired resource stays Expired while it is stopped; only a lease extension brings it back.
        resource.State = resource.State == ResourceState.Expired && after == ResourceState.Shutoff ? ResourceState.Expired : after;
        resource.Version++;
        db.Record(time, Worker, AuditActions.OperationSucceeded, Target(operation), operation.TenantId,
            $"{operation.Kind} of {resource.Name}{(host is null ? "" : " on " + host.Name)}: now {resource.State}");
        var notifications = new List<Notification>();
        if (operation.RequestId is { } requestId && operation.Kind is OperationKind.Create or OperationKind.Resize)
        {
            var request = await db.Requests.FirstOrDefaultAsync(r => r.Id == requestId, ct);
            if (request is { State: RequestState.Provisioning or RequestState.Approved })
            {
                Close(db, request, RequestState.Completed, $"{resource.Name} is {resource.State.ToString().ToLowerInvariant()}{(host is null ? "" : " on " + host.Name)}");
                notifications.Add(Notify(db, request.RequesterId, resource.TenantId, NotificationKind.ProvisioningFinished,
                    $"{resource.Name} is ready ({resource.State}).", $"/tenants/{resource.TenantId}"));
            }
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        Publish(resource, operation, notifications);
        LogSucceeded(operation.Kind, resource.Name, resource.State);
    }

    private async Task RetryOrFailAsync(Guid operationId, string workerId, HypervisorException error, CancellationToken ct)
    {
        bool retry;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var operation = await db.Operations.FirstAsync(o => o.Id == operationId, ct);
            if (operation.LeaseOwner != workerId)
                return;
            retry = error.IsTransient && operation.Attempts < options.Value.MaxAttempts;
            if (retry)
            {
                // Exponential backoff: 2, 4, 8 … seconds, at most a minute.
                var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, operation.Attempts)));
                operation.State = OperationState.Pending;
                operation.NotBefore = time.GetUtcNow() + backoff;
                operation.LeaseOwner = null;
                operation.LeaseExpiresAt = null;
                operation.LastError = error.Message;
                db.Record(time, Worker, AuditActions.OperationRetry, Target(operation), operation.TenantId,
                    $"{operation.Kind} attempt {operation.Attempts} failed ({error.Message}); retrying in {backoff.TotalSeconds:0} s");
                await db.SaveChangesAsync(ct);
                LogRetry(operation.Kind, operation.Attempts, error.Message);
            }
        }

        if (!retry)
            await FailAsync(operationId, workerId, ProvisioningFailure.From(error), ct);
    }

    private async Task FailAsync(Guid operationId, string workerId, ProvisioningFailure failure, CancellationToken ct)
    {
        var (actual, cleanup) = await SettleOnHostAsync(operationId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var operation = await db.Operations.FirstAsync(o => o.Id == operationId, ct);
        if (operation.LeaseOwner != workerId)
            return;
        var resource = await db.Resources.FirstAsync(r => r.Id == operation.ResourceId, ct);
        if (actual is not null)
            resource.State = resource.State == ResourceState.Expired && actual.State == DomainState.Shutoff ? ResourceState.Expired : Map(actual.State);
        if (actual is not null && (actual.VCpus, actual.MemoryMiB) != (resource.VCpus, resource.RamMiB))
        {
            // The approval reserved the new size on the record; the guest kept its old one, and the record follows the guest.
            (resource.VCpus, resource.RamMiB) = (actual.VCpus, actual.MemoryMiB);
            resource.SizeId = await db.VmSizes.Where(z => z.VCpus == actual.VCpus && z.RamMiB == actual.MemoryMiB).Select(z => (Guid?)z.Id).FirstOrDefaultAsync(ct);
        }
        operation.State = OperationState.Failed;
        operation.FinishedAt = time.GetUtcNow();
        operation.LastError = failure.Detail;
        operation.FailureKind = failure.Kind;
        operation.LeaseOwner = null;
        operation.LeaseExpiresAt = null;
        if (operation.Kind == OperationKind.Create)
            resource.State = ResourceState.Failed;
        resource.Version++;
        // The audit log keeps the host's own words; members read the plain sentence.
        db.Record(time, Worker, AuditActions.OperationFailed, Target(operation), operation.TenantId,
            $"{operation.Kind} of {resource.Name} failed ({failure.Kind}): {failure.Detail}{cleanup}");
        var notifications = new List<Notification>();
        var sentence = failure.PlainSentence(operation.Kind, operation.RequestId);
        if (operation.RequestId is { } requestId)
        {
            var request = await db.Requests.FirstOrDefaultAsync(r => r.Id == requestId, ct);
            if (request is { State: RequestState.Provisioning or RequestState.Approved })
            {
                request.Reason = sentence;
                request.FailureKind = failure.Kind;
                request.FailureDetail = failure.Detail;
                Close(db, request, RequestState.Failed, sentence);
                notifications.Add(Notify(db, request.RequesterId, resource.TenantId, NotificationKind.ProvisioningFailed,
                    $"{resource.Name}: {sentence}", $"/requests/{request.Id}"));
            }
        }

        if (failure.IsHostSide)
        {
            var link = operation.RequestId is { } id ? $"/requests/{id}" : "/audit";
            foreach (var admin in await db.UserIdsInRoleAsync(GlobalRoles.Admin, ct))
                notifications.Add(Notify(db, admin, resource.TenantId, NotificationKind.HostFailure,
                    Truncate($"{operation.Kind} of {resource.Name} failed on its host: {failure.Detail}", 480), link));
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        Publish(resource, operation, notifications);
        LogFailed(operation.Kind, resource.Name, failure.Kind, failure.Detail);
    }

    private static string Truncate(string value, int length) => value.Length > length ? value[..(length - 1)] + "…" : value;

    /// <summary>
    /// Leaves the host as a failed operation should: a failed create leaves no domain behind (what an
    /// attempt defined is removed again), a failed resize leaves the guest as it was (started again if the
    /// resize had shut it down). Best effort: a host that does not answer keeps what it has, and the
    /// reconciler reports it. Returns a resize's guest as its host reports it, and a note for the audit.
    /// </summary>
    private async Task<(DomainInfo? Actual, string Note)> SettleOnHostAsync(Guid operationId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Operations.AsNoTracking().FirstAsync(o => o.Id == operationId, ct);
        if (operation.Kind is not (OperationKind.Create or OperationKind.Resize))
            return (null, "");
        var resource = await db.Resources.AsNoTracking().FirstAsync(r => r.Id == operation.ResourceId, ct);
        var host = resource.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == hostId, ct) : null;
        if (host is null)
            return (null, "");
        try
        {
            var hypervisor = registry.For(host);
            var domain = await hypervisor.GetDomainAsync(resource.Id, ct);
            if (operation.Kind == OperationKind.Create)
            {
                if (domain is null)
                    return (null, "");
                await hypervisor.DeleteAsync(resource.Id, ct);
                return (null, "; the domain it had defined was removed");
            }

            if (domain?.State == DomainState.Shutoff && resource.State == ResourceState.Running)
            {
                await hypervisor.StartAsync(resource.Id, ct);
                domain = await hypervisor.GetDomainAsync(resource.Id, ct);
            }

            return (domain, "");
        }
        catch (HypervisorException e)
        {
            return (null, operation.Kind == OperationKind.Create ? $"; its domain could not be removed ({e.Message})" : "");
        }
    }

    private void Close(PortalDbContext db, Request request, RequestState to, string message)
    {
        RequestStateMachine.EnsureCanMove(request.State, to);
        var from = request.State;
        request.State = to;
        request.ClosedAt = time.GetUtcNow();
        request.Version++;
        db.RequestEvents.Add(new RequestEvent
        {
            RequestId = request.Id, At = time.GetUtcNow(), ActorId = Worker.UserId, ActorName = Worker.Name, From = from, To = to, Message = message,
        });
        db.Record(time, Worker, AuditActions.RequestMovedTo(to), $"request {request.Id}", request.TenantId, message);
    }

    private Notification Notify(PortalDbContext db, string userId, Guid tenantId, NotificationKind kind, string text, string link) =>
        NotificationService.Add(db, time, userId, kind, text, link, tenantId);

    private void Publish(Resource resource, Operation operation, List<Notification> notifications)
    {
        live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        if (operation.RequestId is { } requestId)
            live.Publish(new RequestChanged(operation.TenantId, requestId, 0));
        foreach (var notification in notifications)
            live.Publish(new NotificationAdded(notification.UserId, notification.Id));
    }

    private async Task Step(string name)
    {
        if (CrashPoint is { } crash)
            await crash(name);
        if (faults.Value.KillAt == name && Interlocked.Increment(ref faultHits) == faults.Value.KillOnHit)
        {
            LogKilled(name, faults.Value.KillOnHit);
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            self.Kill(); // SIGKILL: no finally block, no graceful shutdown, as a crash would leave it.
        }
    }

    private static string Target(Operation operation) => $"operation {operation.Id}";

    [LoggerMessage(LogLevel.Information, "{Kind} of {Resource} succeeded: now {State}")]
    private partial void LogSucceeded(OperationKind kind, string resource, ResourceState state);

    [LoggerMessage(LogLevel.Warning, "{Kind} attempt {Attempt} failed, will retry: {Error}")]
    private partial void LogRetry(OperationKind kind, int attempt, string error);

    [LoggerMessage(LogLevel.Warning, "{Kind} of {Resource} failed ({FailureKind}): {Reason}")]
    private partial void LogFailed(OperationKind kind, string resource, FailureKind failureKind, string reason);

    [LoggerMessage(LogLevel.Information, "Took back {Count} operation(s) whose worker's process is gone")]
    private partial void LogReclaimed(int count);

    [LoggerMessage(LogLevel.Warning, "The lease of operation {OperationId} could not be renewed")]
    private partial void LogRenewFailed(Exception exception, Guid operationId);

    [LoggerMessage(LogLevel.Critical, "Fault injection: killing this process at step {Step} (hit {Hit})")]
    private partial void LogKilled(string step, int hit);
}
