using VirtPortal.Core.Resources;

namespace VirtPortal.Core.Provisioning.Procedures;

/// <summary>
/// Creates the guest in two steps, each found again by a retry: a domain defined by a process that died
/// before starting it is started now, and only a domain the host shows running counts as created.
/// </summary>
internal sealed class CreateProcedure : OperationProcedure
{
    public static readonly CreateProcedure Instance = new();

    public override async Task<ResourceState> RunAsync(ProcedureContext context, CancellationToken ct)
    {
        var (hypervisor, resource) = (context.Hypervisor, context.Resource);
        var domain = await hypervisor.GetDomainAsync(resource.Id, ct)
            ?? await hypervisor.DefineAsync(new DomainSpec(resource.Id, ResourceLifecycle.DomainName(resource), resource.VCpus, resource.RamMiB, resource.DiskGiB, context.ImageRef), ct);
        await context.Step("defined");
        await hypervisor.EnsureRunningAsync(domain, ct);
        await context.Step("started");
        return await ObservedAsync(context, DomainState.Running, ct);
    }

    /// <summary>A failed create leaves no domain behind: what an attempt defined is removed again.</summary>
    public override async Task<(DomainInfo? Actual, string Note)> SettleAfterFailureAsync(IHypervisor hypervisor, Resource resource, CancellationToken ct)
    {
        try
        {
            if (await hypervisor.GetDomainAsync(resource.Id, ct) is null)
                return (null, "");
            await hypervisor.DeleteAsync(resource.Id, ct);
            return (null, "; the domain it had defined was removed");
        }
        catch (HypervisorException e)
        {
            return (null, $"; its domain could not be removed ({e.Message})");
        }
    }
}
