using Microsoft.EntityFrameworkCore;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;

namespace VirtPortal.Web.Console;

/// <summary>
/// A VM's console as its host reports it now: the VNC endpoint, or the plain sentence that says why
/// there is none. <see cref="TenantId"/> and <see cref="Name"/> are null for an unknown resource.
/// </summary>
public sealed record ConsoleLocation(Guid? TenantId, string? Name, ConsoleEndpoint? Endpoint, string? Unavailable);

/// <summary>
/// Finds where a VM's console listens, asking its host each time (the ports change with every start).
/// The caller has asked the access service already.
/// </summary>
public sealed partial class ConsoleLocator(IDbContextFactory<PortalDbContext> dbFactory, HypervisorRegistry registry, ILogger<ConsoleLocator> logger)
{
    public const string NotRunning = "The console opens when the VM is running.";

    public async Task<ConsoleLocation> LocateAsync(Guid resourceId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var resource = await db.Resources.AsNoTracking().FirstOrDefaultAsync(r => r.Id == resourceId, ct);
        if (resource is null)
            return new ConsoleLocation(null, null, null, "There is no such VM.");
        if (resource.Kind != ResourceKind.Vm)
            return new ConsoleLocation(resource.TenantId, resource.Name, null, "Only VMs have a console.");
        var host = resource.HostId is { } hostId ? await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == hostId, ct) : null;
        if (host is null || resource.State is not (ResourceState.Running or ResourceState.Paused))
            return new ConsoleLocation(resource.TenantId, resource.Name, null, NotRunning);

        ConsoleEndpoint? endpoint;
        try
        {
            endpoint = await registry.For(host).GetConsoleAsync(resource.Id, ct);
        }
        catch (HypervisorNotFoundException)
        {
            return new ConsoleLocation(resource.TenantId, resource.Name, null, NotRunning);
        }
        catch (HypervisorException e)
        {
            LogHostFailed(e, resource.Id, host.Name);
            return new ConsoleLocation(resource.TenantId, resource.Name, null, $"The host \"{host.Name}\" did not answer; try again in a moment.");
        }

        if (endpoint is null)
        {
            var why = host.Driver == HostDriver.Simulated ? $"This VM runs on the simulated host \"{host.Name}\", which has no console." : NotRunning;
            return new ConsoleLocation(resource.TenantId, resource.Name, null, why);
        }

        return new ConsoleLocation(resource.TenantId, resource.Name, Reachable(endpoint, host), null);
    }

    /// <summary>A VNC server listening on every address of a remote host is reached at the host's own name.</summary>
    private static ConsoleEndpoint Reachable(ConsoleEndpoint endpoint, Core.Hosts.Host host)
    {
        if (endpoint.Host is not ("0.0.0.0" or "::" or "[::]" or ""))
            return endpoint;
        var name = Uri.TryCreate(host.Uri, UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri.Host : "127.0.0.1";
        return endpoint with { Host = name };
    }

    [LoggerMessage(LogLevel.Warning, "The console of VM {VmId} could not be located: host {Host} failed")]
    private partial void LogHostFailed(Exception exception, Guid vmId, string host);
}
