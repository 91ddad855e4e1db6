using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Notifications;
using VirtPortal.Core.Provisioning.Procedures;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Provisioning;

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
    IOptions<ProvisioningOptions> options, IOptions<FaultInjectionOptions> faults, ILogger<ProvisioningService> logger,
    Databases.DatabaseEngineRegistry databases, Databases.DatabaseServerSecrets secrets)
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
            if (resource.Kind == ResourceKind.Database)
            {
                // Databases go on database servers, not hypervisor hosts; a server takes any number of calls at once.
                if (resource.DatabaseServerId is null && operation.Kind == OperationKind.Create)
                    await PlaceDatabaseAsync(db, resource, ct);
            }
            else if (resource.HostId is { } hostId)
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

            var request = await ClaimAsync(db, operation, workerId, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            if (request is not null)
                live.Publish(new RequestChanged(request.TenantId, request.Id, request.Version));
            return operation.Id;
        }

        return null;
    }

    /// <summary>Leases the operation to <paramref name="workerId"/>; a create or resize moves its approved request to Provisioning. Returns that request.</summary>
    private async Task<Request?> ClaimAsync(PortalDbContext db, Operation operation, string workerId, DateTimeOffset now, CancellationToken ct)
    {
        var takenOver = operation.State == OperationState.Running;
        var previous = operation.LeaseOwner;
        operation.State = OperationState.Running;
        operation.LeaseOwner = workerId;
        operation.LeaseExpiresAt = now + options.Value.LeaseDuration;
        operation.Attempts++;
        db.Record(time, Worker, takenOver ? AuditActions.OperationTakenOver : AuditActions.OperationStarted, Target(operation), operation.TenantId,
            $"{operation.Kind}, attempt {operation.Attempts}{(takenOver ? $", from {previous} whose lease had expired or whose process had ended" : "")}");

        var request = await RequestOfAsync(db, operation, ct);
        if (request?.State == RequestState.Approved && operation.Kind is OperationKind.Create or OperationKind.Resize)
            RequestTransitions.Move(db, time, request, RequestState.Provisioning, Worker, $"{operation.Kind} started");
        return request;
    }

    private static async Task<Request?> RequestOfAsync(PortalDbContext db, Operation operation, CancellationToken ct) =>
        operation.RequestId is { } requestId ? await db.Requests.FirstOrDefaultAsync(r => r.Id == requestId, ct) : null;

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

        if (resource.Kind == ResourceKind.Database)
        {
            await RunDatabaseAsync(operation, resource, workerId, ct);
            return;
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
            var context = new ProcedureContext(registry.For(host), operation, resource, imageRef, Step, time, options.Value);
            after = await OperationProcedure.For(operation.Kind).RunAsync(context, ct).WaitAsync(options.Value.OperationTimeout, time, ct);
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

    private Task FinishAsync(Guid operationId, string workerId, Host? host, ResourceState after, CancellationToken ct) =>
        FinishAsync(operationId, workerId, host?.Name, after, null, ct);

    /// <summary>More a finished operation writes in its transaction.</summary>
    private delegate Task AlsoOnFinish(PortalDbContext db, Resource resource, Operation operation, CancellationToken ct);

    /// <param name="place">The host or database server it ran on, for the audit and the request's timeline.</param>
    /// <param name="also">More to write in the same transaction (a database's new password, its backup's size).</param>
    private async Task FinishAsync(Guid operationId, string workerId, string? place, ResourceState after,
        AlsoOnFinish? also, CancellationToken ct)
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
        // A database deleted while it was being made stays deleted (its record went at once).
        if (resource.State != ResourceState.Deleted)
            ResourceLifecycle.Finished(resource, operation.Kind, after, now);
        if (also is not null)
            await also(db, resource, operation, ct);
        db.Record(time, Worker, AuditActions.OperationSucceeded, Target(operation), operation.TenantId,
            $"{operation.Kind} of {resource.Name}{(place is null ? "" : " on " + place)}: now {resource.State}");
        var notifications = new List<Notification>();
        var request = await RequestOfAsync(db, operation, ct);
        if (request is { State: RequestState.Provisioning or RequestState.Approved } && operation.Kind is OperationKind.Create or OperationKind.Resize)
        {
            RequestTransitions.Move(db, time, request, RequestState.Completed, Worker,
                $"{resource.Name} is {resource.State.ToString().ToLowerInvariant()}{(place is null ? "" : " on " + place)}");
            notifications.Add(Notify(db, request.RequesterId, resource.TenantId, NotificationKind.ProvisioningFinished,
                $"{resource.Name} is ready ({resource.State}).",
                resource.Kind == ResourceKind.Database ? $"/databases/{resource.Id}" : $"/tenants/{resource.TenantId}"));
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        Publish(resource, request, notifications);
        LogSucceeded(operation.Kind, resource.Name, resource.State);
    }

    private Task RetryOrFailAsync(Guid operationId, string workerId, HypervisorException error, CancellationToken ct) =>
        RetryOrFailAsync(operationId, workerId, error.IsTransient, error.Message, ProvisioningFailure.From(error), untilDone: false, ct);

    /// <param name="untilDone">Retry however often it takes (a dropped database's record is already gone: only its server is behind).</param>
    private async Task RetryOrFailAsync(Guid operationId, string workerId, bool transient, string message, ProvisioningFailure failure, bool untilDone, CancellationToken ct)
    {
        bool retry;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var operation = await db.Operations.FirstAsync(o => o.Id == operationId, ct);
            if (operation.LeaseOwner != workerId)
                return;
            retry = untilDone || (transient && operation.Attempts < options.Value.MaxAttempts);
            if (retry)
            {
                // Exponential backoff: 2, 4, 8 … seconds, at most a minute.
                var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(operation.Attempts, 6))));
                operation.State = OperationState.Pending;
                operation.NotBefore = time.GetUtcNow() + backoff;
                operation.LeaseOwner = null;
                operation.LeaseExpiresAt = null;
                operation.LastError = message;
                db.Record(time, Worker, AuditActions.OperationRetry, Target(operation), operation.TenantId,
                    $"{operation.Kind} attempt {operation.Attempts} failed ({message}); retrying in {backoff.TotalSeconds:0} s");
                await db.SaveChangesAsync(ct);
                LogRetry(operation.Kind, operation.Attempts, message);
            }
        }

        if (!retry)
            await FailAsync(operationId, workerId, failure, ct);
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
        if (operation.Kind == OperationKind.Create && resource.State != ResourceState.Deleted)
            ResourceLifecycle.Fail(resource);
        else if (actual is not null)
            ResourceLifecycle.Observe(resource, ResourceLifecycle.StateOf(actual.State), time.GetUtcNow());
        else
            ResourceLifecycle.Touch(resource);
        if (actual is not null && (actual.VCpus, actual.MemoryMiB) != (resource.VCpus, resource.RamMiB))
        {
            // The approval reserved the new size on the record; the guest kept its old one, and the record follows the guest.
            (resource.VCpus, resource.RamMiB) = (actual.VCpus, actual.MemoryMiB);
            resource.SizeId = await db.VmSizes.Where(z => z.VCpus == actual.VCpus && z.RamMiB == actual.MemoryMiB).Select(z => (Guid?)z.Id).FirstOrDefaultAsync(ct);
        }
        operation.State = OperationState.Failed;
        operation.FinishedAt = time.GetUtcNow();
        operation.LastError = failure.Detail;
        if (operation.BackupId is { } backupId && await db.DatabaseBackups.FirstOrDefaultAsync(b => b.Id == backupId, ct) is { } backup)
        {
            backup.State = Databases.DatabaseBackupState.Failed;
            backup.FinishedAt = operation.FinishedAt;
            backup.Error = Truncate(failure.Detail, 1000);
        }

        operation.FailureKind = failure.Kind;
        operation.LeaseOwner = null;
        operation.LeaseExpiresAt = null;
        // The audit log keeps the host's own words; members read the plain sentence.
        db.Record(time, Worker, AuditActions.OperationFailed, Target(operation), operation.TenantId,
            $"{operation.Kind} of {resource.Name} failed ({failure.Kind}): {failure.Detail}{cleanup}");
        var notifications = new List<Notification>();
        var sentence = failure.PlainSentence(operation.Kind, operation.RequestId, resource.Kind);
        var request = await RequestOfAsync(db, operation, ct);
        if (request is { State: RequestState.Provisioning or RequestState.Approved })
        {
            request.Reason = sentence;
            request.FailureKind = failure.Kind;
            request.FailureDetail = failure.Detail;
            RequestTransitions.Move(db, time, request, RequestState.Failed, Worker, sentence);
            notifications.Add(Notify(db, request.RequesterId, resource.TenantId, NotificationKind.ProvisioningFailed,
                $"{resource.Name}: {sentence}", $"/requests/{request.Id}"));
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
        Publish(resource, request, notifications);
        LogFailed(operation.Kind, resource.Name, failure.Kind, failure.Detail);
    }

    private static string Truncate(string value, int length) => value.Length > length ? value[..(length - 1)] + "…" : value;

    /// <summary>
    /// Lets the failed operation's procedure leave the host as it should (best effort: a host that does not
    /// answer keeps what it has, and the reconciler reports it). Returns the guest as its host then reports
    /// it, when the record must follow it, and a note for the audit.
    /// </summary>
    private async Task<(DomainInfo? Actual, string Note)> SettleOnHostAsync(Guid operationId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Operations.AsNoTracking().FirstAsync(o => o.Id == operationId, ct);
        var resource = await db.Resources.AsNoTracking().FirstAsync(r => r.Id == operation.ResourceId, ct);
        var host = resource.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == hostId, ct) : null;
        if (host is null)
            return (null, "");
        IHypervisor hypervisor;
        try
        {
            hypervisor = registry.For(host);
        }
        catch (HypervisorException)
        {
            return (null, "");
        }

        return await OperationProcedure.For(operation.Kind).SettleAfterFailureAsync(hypervisor, resource, ct);
    }

    private Notification Notify(PortalDbContext db, string userId, Guid tenantId, NotificationKind kind, string text, string link) =>
        NotificationService.Add(db, time, userId, kind, text, link, tenantId);

    private void Publish(Resource resource, Request? request, List<Notification> notifications)
    {
        live.Publish(new ResourceChanged(resource.TenantId, resource.Id, resource.Version));
        if (request is not null)
            live.Publish(new RequestChanged(request.TenantId, request.Id, request.Version));
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
