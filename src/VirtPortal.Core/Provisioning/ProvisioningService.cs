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
}

/// <summary>
/// Turns queued operations into hypervisor calls. A worker claims the oldest runnable operation (one
/// at a time per resource) with a time-limited lease, so a crashed worker's operation is taken over
/// when its lease expires; adapter calls are idempotent, so a retry after a crash finds what the first
/// attempt did. Every attempt and error is recorded on the operation and in the audit log.
/// </summary>
public sealed partial class ProvisioningService(
    IDbContextFactory<PortalDbContext> dbFactory, HypervisorRegistry registry, LiveUpdates live, TimeProvider time,
    IOptions<ProvisioningOptions> options, ILogger<ProvisioningService> logger)
{
    private static readonly Actor Worker = new("provisioning", "provisioning", new HashSet<string>());

    /// <summary>Test hook: called at named steps ("claimed", "placed", "called"); throwing there simulates a crash.</summary>
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

    internal async Task<Guid?> ClaimNextAsync(string workerId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        // The oldest open operation of each resource runs first; a resource runs one operation at a time.
        var operation = await db.Operations
            .Where(o => (o.State == OperationState.Pending && (o.NotBefore == null || o.NotBefore <= now))
                        || (o.State == OperationState.Running && o.LeaseExpiresAt < now))
            .Where(o => !db.Operations.Any(x => x.ResourceId == o.ResourceId && x.Id != o.Id
                        && (x.State == OperationState.Pending || x.State == OperationState.Running) && x.CreatedAt < o.CreatedAt))
            .OrderBy(o => o.CreatedAt)
            .FirstOrDefaultAsync(ct);
        if (operation is null)
            return null;

        var takenOver = operation.State == OperationState.Running;
        operation.State = OperationState.Running;
        operation.LeaseOwner = workerId;
        operation.LeaseExpiresAt = now + options.Value.LeaseDuration;
        operation.Attempts++;
        db.Record(time, Worker, takenOver ? "operation.taken-over" : "operation.started", Target(operation), operation.TenantId,
            $"{operation.Kind}, attempt {operation.Attempts}{(takenOver ? ", after its previous worker's lease expired" : "")}");

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
                db.Record(time, Worker, "request.provisioning", $"request {request.Id}", request.TenantId);
            }
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (operation.RequestId is { } id)
            live.Publish(new RequestChanged(operation.TenantId, id, 0));
        return operation.Id;
    }

    private async Task ExecuteAsync(Guid operationId, string workerId, CancellationToken ct)
    {
        await Step("claimed");
        Operation operation;
        Resource resource;
        Host? host;
        string imageRef;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            operation = await db.Operations.AsNoTracking().FirstAsync(o => o.Id == operationId, ct);
            resource = await db.Resources.FirstAsync(r => r.Id == operation.ResourceId, ct);
            var templateId = resource.TemplateId;
            imageRef = templateId is null
                ? resource.Kind.ToString().ToLowerInvariant()
                : await db.VmTemplates.Where(t => t.Id == templateId).Select(t => t.ImageRef).FirstOrDefaultAsync(ct) ?? "";
            host = resource.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == hostId, ct) : null;
            if (host is null)
            {
                if (operation.Kind == OperationKind.Delete)
                {
                    // Never placed: nothing exists on any host.
                    await FinishAsync(operationId, workerId, null, ResourceState.Deleted, ct);
                    return;
                }

                var decision = Placement.Choose(await HostService.LoadsAsync(db, ct), resource.VCpus, resource.RamMiB, resource.DiskGiB);
                resource.PlacementReason = decision.Reason;
                if (decision.Host is null)
                {
                    await db.SaveChangesAsync(ct);
                    await FailAsync(operationId, workerId, decision.Reason, ct);
                    return;
                }

                host = decision.Host;
                resource.HostId = host.Id;
                db.Record(time, Worker, "resource.placed", $"{resource.Kind} {resource.Name}", resource.TenantId, decision.Reason);
                await db.SaveChangesAsync(ct);
            }
        }

        await Step("placed");
        ResourceState after;
        try
        {
            var hypervisor = registry.For(host);
            after = await CallAsync(hypervisor, operation, resource, imageRef, ct);
        }
        catch (HypervisorException e)
        {
            await RetryOrFailAsync(operationId, workerId, e, ct);
            return;
        }

        await Step("called");
        await FinishAsync(operationId, workerId, host, after, ct);
    }

    private async Task<ResourceState> CallAsync(IHypervisor hypervisor, Operation operation, Resource resource, string imageRef, CancellationToken ct)
    {
        var id = resource.Id;
        switch (operation.Kind)
        {
            case OperationKind.Create:
                var created = await hypervisor.CreateAsync(new DomainSpec(id, DomainName(resource), resource.VCpus, resource.RamMiB, resource.DiskGiB, imageRef), ct);
                return Map(created.State);
            case OperationKind.Delete:
                await hypervisor.DeleteAsync(id, ct);
                return ResourceState.Deleted;
            case OperationKind.Start:
                await hypervisor.StartAsync(id, ct);
                break;
            case OperationKind.Shutdown:
                await hypervisor.ShutdownAsync(id, ct);
                break;
            case OperationKind.ForceOff:
                await hypervisor.ForceOffAsync(id, ct);
                break;
            case OperationKind.Reboot:
                await hypervisor.RebootAsync(id, ct);
                break;
            case OperationKind.Suspend:
                await hypervisor.SuspendAsync(id, ct);
                break;
            case OperationKind.Resume:
                await hypervisor.ResumeAsync(id, ct);
                break;
            case OperationKind.Resize:
                await ResizeAsync(hypervisor, resource, operation.TargetVCpus ?? resource.VCpus, operation.TargetRamMiB ?? resource.RamMiB, ct);
                break;
        }

        var info = await hypervisor.GetDomainAsync(id, ct) ?? throw new HypervisorNotFoundException($"domain {id} vanished during {operation.Kind}");
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
            throw new HypervisorConflictException($"{resource.Name} is paused: resume it or shut it down, then ask for the resize again.");
        if (domain.State == DomainState.Running)
        {
            await hypervisor.ShutdownAsync(id, ct);
            var deadline = time.GetUtcNow() + options.Value.ResizeShutdownTimeout;
            while ((await hypervisor.GetDomainAsync(id, ct))?.State is not DomainState.Shutoff)
            {
                if (time.GetUtcNow() >= deadline)
                    throw new HypervisorConflictException(
                        $"{resource.Name} did not power off within {options.Value.ResizeShutdownTimeout.TotalSeconds:0} s of the power button; shut it down (or force it off) and ask for the resize again.");
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
        db.Record(time, Worker, "operation.succeeded", Target(operation), operation.TenantId,
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
                db.Record(time, Worker, "operation.retry", Target(operation), operation.TenantId,
                    $"{operation.Kind} attempt {operation.Attempts} failed ({error.Message}); retrying in {backoff.TotalSeconds:0} s");
                await db.SaveChangesAsync(ct);
                LogRetry(operation.Kind, operation.Attempts, error.Message);
            }
        }

        if (!retry)
            await FailAsync(operationId, workerId, error.Message, ct);
    }

    private async Task FailAsync(Guid operationId, string workerId, string reason, CancellationToken ct)
    {
        var actual = await SettleFailedResizeAsync(operationId, ct);
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
        operation.LastError = reason;
        operation.LeaseOwner = null;
        operation.LeaseExpiresAt = null;
        if (operation.Kind == OperationKind.Create)
            resource.State = ResourceState.Failed;
        resource.Version++;
        db.Record(time, Worker, "operation.failed", Target(operation), operation.TenantId, $"{operation.Kind} of {resource.Name} failed: {reason}");
        var notifications = new List<Notification>();
        if (operation.RequestId is { } requestId)
        {
            var request = await db.Requests.FirstOrDefaultAsync(r => r.Id == requestId, ct);
            if (request is { State: RequestState.Provisioning or RequestState.Approved })
            {
                request.Reason = reason;
                Close(db, request, RequestState.Failed, $"{operation.Kind} failed: {reason}");
                notifications.Add(Notify(db, request.RequesterId, resource.TenantId, NotificationKind.ProvisioningFailed,
                    $"{resource.Name} could not be provisioned: {reason}", $"/requests/{request.Id}"));
            }
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        Publish(resource, operation, notifications);
        LogFailed(operation.Kind, resource.Name, reason);
    }

    /// <summary>
    /// A failed resize leaves the guest as it was: started again if the resize had shut it down. Returns
    /// the guest's size as its host reports it (null when not a resize or the host cannot say).
    /// </summary>
    private async Task<DomainInfo?> SettleFailedResizeAsync(Guid operationId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var operation = await db.Operations.AsNoTracking().FirstAsync(o => o.Id == operationId, ct);
        if (operation.Kind != OperationKind.Resize)
            return null;
        var resource = await db.Resources.AsNoTracking().FirstAsync(r => r.Id == operation.ResourceId, ct);
        var host = resource.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == hostId, ct) : null;
        if (host is null)
            return null;
        try
        {
            var hypervisor = registry.For(host);
            var domain = await hypervisor.GetDomainAsync(resource.Id, ct);
            if (domain?.State == DomainState.Shutoff && resource.State == ResourceState.Running)
            {
                await hypervisor.StartAsync(resource.Id, ct);
                domain = await hypervisor.GetDomainAsync(resource.Id, ct);
            }

            return domain;
        }
        catch (HypervisorException)
        {
            return null; // Unreachable: the reconciler reports the difference once the host answers.
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
        db.Record(time, Worker, "request." + to.ToString().ToLowerInvariant(), $"request {request.Id}", request.TenantId, message);
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
    }

    private static string Target(Operation operation) => $"operation {operation.Id}";

    [LoggerMessage(LogLevel.Information, "{Kind} of {Resource} succeeded: now {State}")]
    private partial void LogSucceeded(OperationKind kind, string resource, ResourceState state);

    [LoggerMessage(LogLevel.Warning, "{Kind} attempt {Attempt} failed, will retry: {Error}")]
    private partial void LogRetry(OperationKind kind, int attempt, string error);

    [LoggerMessage(LogLevel.Warning, "{Kind} of {Resource} failed: {Reason}")]
    private partial void LogFailed(OperationKind kind, string resource, string reason);
}
