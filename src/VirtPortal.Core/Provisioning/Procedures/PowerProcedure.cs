using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Provisioning.Procedures;

/// <summary>
/// Start, shut down, force off, reboot, suspend and resume. Calls whose outcome the host decides at once
/// must show it; a shutdown or reboot is the guest's to finish in its own time, and the reconciler follows.
/// </summary>
internal sealed class PowerProcedure : OperationProcedure
{
    public static readonly PowerProcedure Instance = new();

    public override async Task<ResourceState> RunAsync(ProcedureContext context, CancellationToken ct)
    {
        var (hypervisor, id) = (context.Hypervisor, context.Resource.Id);
        switch (context.Operation.Kind)
        {
            case OperationKind.Start:
                await hypervisor.StartAsync(id, ct);
                return await ObservedAsync(context, DomainState.Running, ct);
            case OperationKind.Shutdown:
                await hypervisor.ShutdownAsync(id, ct);
                return await CurrentAsync(context, ct);
            case OperationKind.ForceOff:
                await hypervisor.ForceOffAsync(id, ct);
                return await ObservedAsync(context, DomainState.Shutoff, ct);
            case OperationKind.Reboot:
                await hypervisor.RebootAsync(id, ct);
                return await CurrentAsync(context, ct);
            case OperationKind.Suspend:
                await hypervisor.SuspendAsync(id, ct);
                return await ObservedAsync(context, DomainState.Paused, ct);
            case OperationKind.Resume:
                await hypervisor.ResumeAsync(id, ct);
                return await ObservedAsync(context, DomainState.Running, ct);
            default:
                throw new InvalidOperationException($"{context.Operation.Kind} is not a power action.");
        }
    }
}
