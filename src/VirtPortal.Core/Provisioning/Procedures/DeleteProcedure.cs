using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Provisioning.Procedures;

/// <summary>Removes the guest and its disk from the host; a guest already gone counts as deleted.</summary>
internal sealed class DeleteProcedure : OperationProcedure
{
    public static readonly DeleteProcedure Instance = new();

    public override async Task<ResourceState> RunAsync(ProcedureContext context, CancellationToken ct)
    {
        await context.Hypervisor.DeleteAsync(context.Resource.Id, ct);
        return ResourceState.Deleted;
    }
}
