using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Resources;

/// <summary>What an approved request does to resources, in the approval's transaction: a new VM or database, or a resize.</summary>
public static class ResourceApprovals
{
    /// <summary>The new VM or database the request asked for, Provisioning, with its create operation queued.</summary>
    public static async Task<Resource> CreateAsync(PortalDbContext db, Request request, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        var resource = new Resource
        {
            Id = Guid.CreateVersion7(now),
            TenantId = request.TenantId,
            Kind = request.Kind == RequestKind.NewVm ? ResourceKind.Vm : ResourceKind.Database,
            Name = request.Name,
            TemplateId = request.TemplateId,
            SizeId = request.SizeId,
            OfferingId = request.OfferingId,
            RestoreFromBackupId = request.RestoreFromBackupId,
            VCpus = request.Demand.VCpus,
            RamMiB = request.Demand.RamMiB,
            DiskGiB = request.Demand.DiskGiB,
            State = ResourceState.Provisioning,
            CreatedAt = now,
            LeaseEndsAt = now.AddDays(request.LeaseDays),
            RequestId = request.Id,
            Version = 1,
        };
        resource.HourlyPrice = request.Kind == RequestKind.NewVm
            ? (await db.VmTemplates.Where(t => t.Id == request.TemplateId).Select(t => t.HourlyPrice).FirstAsync(ct))
              + (await db.VmSizes.Where(s => s.Id == request.SizeId).Select(s => s.HourlyPrice).FirstAsync(ct))
            : await db.DatabaseOfferings.Where(o => o.Id == request.OfferingId).Select(o => o.HourlyPrice).FirstAsync(ct);
        db.Resources.Add(resource);
        request.ResourceId = resource.Id;
        db.Operations.Add(Operation.Queue(resource, OperationKind.Create, actor.UserId, now, request.Id));
        return resource;
    }

    /// <summary>
    /// Queues the resize and reserves the new size against quota now, on the record; the worker applies it
    /// to the guest (and the record follows the guest if it cannot).
    /// </summary>
    public static async Task<Resource> ReserveResizeAsync(PortalDbContext db, Request request, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        var vm = await db.Resources.FirstAsync(r => r.Id == request.ResourceId, ct);
        var size = await db.VmSizes.FirstAsync(s => s.Id == request.SizeId, ct);
        var operation = Operation.Queue(vm, OperationKind.Resize, actor.UserId, now, request.Id);
        operation.TargetVCpus = size.VCpus;
        operation.TargetRamMiB = size.RamMiB;
        db.Operations.Add(operation);
        (vm.VCpus, vm.RamMiB, vm.SizeId) = (size.VCpus, size.RamMiB, size.Id);
        ResourceLifecycle.Touch(vm);
        return vm;
    }
}
