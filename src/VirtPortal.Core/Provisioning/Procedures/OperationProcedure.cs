using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Provisioning.Procedures;

/// <summary>
/// What one run of an operation works with: the resource's host, the operation and the resource as the
/// queue claimed them, the template's image, and the crash-test step hook.
/// </summary>
internal sealed record ProcedureContext(
    IHypervisor Hypervisor, Operation Operation, Resource Resource, string ImageRef, Func<string, Task> Step, TimeProvider Time, ProvisioningOptions Options);

/// <summary>
/// The hypervisor calls of one kind of operation. A run is idempotent (a retry after a crash finds what
/// the first attempt did) and returns the state the host shows; it succeeds only when that is the state
/// it asked for. <see cref="SettleAfterFailureAsync"/> leaves the host as a failed operation of the kind should.
/// </summary>
internal abstract class OperationProcedure
{
    public abstract Task<ResourceState> RunAsync(ProcedureContext context, CancellationToken ct);

    /// <summary>
    /// After the operation failed for good: puts the host right (best effort) and returns the guest as its
    /// host then reports it, when the record must follow it, and a note for the audit entry.
    /// </summary>
    public virtual Task<(DomainInfo? Actual, string Note)> SettleAfterFailureAsync(IHypervisor hypervisor, Resource resource, CancellationToken ct) =>
        Task.FromResult<(DomainInfo?, string)>((null, ""));

    /// <summary>The state the host reports once the call returned; anything but <paramref name="wanted"/> is an attempt that did not work.</summary>
    protected static async Task<ResourceState> ObservedAsync(ProcedureContext context, DomainState wanted, CancellationToken ct)
    {
        var (resource, kind) = (context.Resource, context.Operation.Kind);
        var info = await context.Hypervisor.GetDomainAsync(resource.Id, ct) ?? throw new HypervisorNotFoundException($"{resource.Name} vanished during {kind}.");
        if (info.State != wanted)
            throw new GuestStateException($"{kind} of {resource.Name} returned, but the host shows it {info.State}, not {wanted}.");
        return ResourceLifecycle.StateOf(info.State);
    }

    /// <summary>The state the host reports now, for calls whose outcome the guest decides in its own time.</summary>
    protected static async Task<ResourceState> CurrentAsync(ProcedureContext context, CancellationToken ct)
    {
        var info = await context.Hypervisor.GetDomainAsync(context.Resource.Id, ct)
            ?? throw new HypervisorNotFoundException($"domain {context.Resource.Id} vanished during {context.Operation.Kind}");
        return ResourceLifecycle.StateOf(info.State);
    }

    /// <summary>The procedure that carries out <paramref name="kind"/>.</summary>
    public static OperationProcedure For(OperationKind kind) => kind switch
    {
        OperationKind.Create => CreateProcedure.Instance,
        OperationKind.Delete => DeleteProcedure.Instance,
        OperationKind.Resize => ResizeProcedure.Instance,
        _ => PowerProcedure.Instance,
    };
}
