using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Provisioning.Procedures;

/// <summary>
/// Hypervisors resize a shut-off guest, so a running one is shut down politely, resized and started
/// again (as OpenStack's resize does). Whether to start it again comes from the portal's record, which
/// says Running until this operation finishes, so a retry after a crash between the steps ends the same.
/// </summary>
internal sealed class ResizeProcedure : OperationProcedure
{
    public static readonly ResizeProcedure Instance = new();

    public override async Task<ResourceState> RunAsync(ProcedureContext context, CancellationToken ct)
    {
        var (hypervisor, resource, operation) = (context.Hypervisor, context.Resource, context.Operation);
        var (id, timeout) = (resource.Id, context.Options.ResizeShutdownTimeout);
        var domain = await hypervisor.GetDomainAsync(id, ct) ?? throw new HypervisorNotFoundException($"{resource.Name} is gone from its host.");
        if (domain.State is DomainState.Paused or DomainState.PMSuspended)
            throw new OperationPreconditionException($"{resource.Name} is paused: resume it or shut it down, then ask for the resize again.");
        if (domain.State == DomainState.Running)
        {
            await hypervisor.ShutdownAsync(id, ct);
            var deadline = context.Time.GetUtcNow() + timeout;
            while ((await hypervisor.GetDomainAsync(id, ct))?.State is not DomainState.Shutoff)
            {
                if (context.Time.GetUtcNow() >= deadline)
                    throw new OperationPreconditionException(
                        $"{resource.Name} did not power off within {timeout.TotalSeconds:0} s of the power button; shut it down (or force it off) and ask for the resize again.")
                    { Kind = FailureKind.TimedOut };
                await Task.Delay(TimeSpan.FromSeconds(1), context.Time, ct);
            }
        }

        await hypervisor.ResizeAsync(id, operation.TargetVCpus ?? resource.VCpus, operation.TargetRamMiB ?? resource.RamMiB, ct);
        if (resource.State == ResourceState.Running)
            await hypervisor.StartAsync(id, ct);
        return await CurrentAsync(context, ct);
    }

    /// <summary>A failed resize leaves the guest as it was: started again if the resize had shut it down. The record follows the guest's size.</summary>
    public override async Task<(DomainInfo? Actual, string Note)> SettleAfterFailureAsync(IHypervisor hypervisor, Resource resource, CancellationToken ct)
    {
        try
        {
            var domain = await hypervisor.GetDomainAsync(resource.Id, ct);
            if (domain?.State == DomainState.Shutoff && resource.State == ResourceState.Running)
            {
                await hypervisor.StartAsync(resource.Id, ct);
                domain = await hypervisor.GetDomainAsync(resource.Id, ct);
            }

            return (domain, "");
        }
        catch (HypervisorException)
        {
            return (null, "");
        }
    }
}
