using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Hosts;

public sealed partial class HostService(
    IDbContextFactory<PortalDbContext> dbFactory, HypervisorRegistry registry, IOptions<HostOptions> options, TimeProvider time, ILogger<HostService> logger)
{
    /// <summary>
    /// First run: registers one host, the local libvirt when its socket is there and the adapter is
    /// available (or configuration asks for it), otherwise the simulated host "demo".
    /// </summary>
    public async Task EnsureFirstHostAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Hosts.AnyAsync(ct))
            return;
        var settings = options.Value;
        var useLibvirt = settings.FirstRun switch
        {
            "libvirt" => true,
            "simulated" => false,
            _ => registry.Supports(HostDriver.Libvirt) && File.Exists(settings.LocalLibvirtSocket),
        };
        var host = useLibvirt
            ? new Host { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = "local", Driver = HostDriver.Libvirt, Uri = settings.LocalLibvirtUri, DomainType = settings.LocalDomainType }
            : new Host { Id = Guid.CreateVersion7(time.GetUtcNow()), Name = "demo", Driver = HostDriver.Simulated, Uri = "simulated://demo", DomainType = "simulated" };
        host.CreatedAt = time.GetUtcNow();
        await RefreshFactsAsync(host, ct);
        db.Hosts.Add(host);
        db.Record(time, Actor.System, "host.registered", $"host {host.Name}", null, $"{host.Driver} at {host.Uri}: {host.State}");
        await db.SaveChangesAsync(ct);
        LogRegistered(host.Name, host.Driver, host.Uri);
    }

    /// <summary>Online hosts and what is placed on each, for placement.</summary>
    public static async Task<List<HostLoad>> LoadsAsync(PortalDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var hosts = await db.Hosts.AsNoTracking().ToListAsync(ct);
        var allocated = await db.Resources.AsNoTracking()
            .Where(r => r.HostId != null && r.State != ResourceState.Deleted && r.State != ResourceState.Failed)
            .GroupBy(r => r.HostId)
            .Select(g => new { HostId = g.Key, VCpus = g.Sum(r => r.VCpus), Ram = g.Sum(r => (long)r.RamMiB), Disk = g.Sum(r => (long)r.DiskGiB) })
            .ToListAsync(ct);
        return [.. hosts.Select(h =>
        {
            var a = allocated.FirstOrDefault(x => x.HostId == h.Id);
            return new HostLoad(h, a?.VCpus ?? 0, a?.Ram ?? 0, a?.Disk ?? 0);
        })];
    }

    private async Task RefreshFactsAsync(Host host, CancellationToken ct)
    {
        try
        {
            var facts = await registry.For(host).GetHostFactsAsync(ct);
            (host.Cpus, host.MemoryMiB, host.StorageGiB) = (facts.Cpus, facts.MemoryMiB, facts.StorageCapacityGiB);
            host.State = HostState.Online;
            host.LastSeenAt = time.GetUtcNow();
            host.LastError = null;
        }
        catch (HypervisorException e)
        {
            host.State = HostState.Unreachable;
            host.LastError = e.Message;
        }
    }

    [LoggerMessage(LogLevel.Information, "Registered host {Name} ({Driver} at {Uri})")]
    private partial void LogRegistered(string name, HostDriver driver, string uri);
}
