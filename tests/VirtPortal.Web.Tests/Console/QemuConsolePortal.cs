using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tenancy;
using VirtPortal.Libvirt.Tests;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// The console portal in front of this machine's libvirt (qemu:///system, TCG) with one tiny guest
/// booted from the test image (scripts/build-test-guest.sh: a shell on its VGA console), defined through
/// the portal's own adapter and recorded as a running VM of a tenant with one member. QEMU's own VNC
/// websocket is the upstream. Run under <c>flock /tmp/vp-libvirt.lock</c> with the other libvirt tests.
/// </summary>
public sealed class QemuConsolePortal : ConsolePortal, IAsyncLifetime
{
    public const string HostName = "console-qemu";

    public QemuConsolePortal()
        : base(new Dictionary<string, string?>
        {
            ["Hosts:List:0:Name"] = HostName,
            ["Hosts:List:0:Driver"] = "Libvirt",
            ["Hosts:List:0:Uri"] = "qemu:///system",
            ["Hosts:List:0:DomainType"] = "qemu",
        })
    {
    }

    public Guid VmId { get; } = Guid.NewGuid();

    public string DomainName => $"vp-ct-{VmId:N}"[..14];

    public Guid TenantId { get; private set; }

    public LiveUser Member { get; private set; } = null!;

    /// <summary>The guest's serial console as its host logs it: what commands typed on its screen write to /dev/ttyS0.</summary>
    public GuestConsole Serial => new(Path.Combine("/var/log/libvirt/qemu", DomainName + "-console.log"));

    public async ValueTask InitializeAsync()
    {
        Member = await CreateUserAsync();
        TenantId = await CreateTenantAsync((Member, TenantRole.Member));
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var host = await db.Hosts.SingleAsync(h => h.Name == HostName);
        await Services.GetRequiredService<HypervisorRegistry>().For(host)
            .CreateAsync(new DomainSpec(VmId, DomainName, 1, 128, 1, "vp-tiny"), CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        db.Resources.Add(new Resource
        {
            Id = VmId, TenantId = TenantId, Name = DomainName, Kind = ResourceKind.Vm, HostId = host.Id, VCpus = 1, RamMiB = 128, DiskGiB = 1,
            State = ResourceState.Running, CreatedAt = now, LeaseEndsAt = now.AddDays(1), Version = 1,
        });
        await db.SaveChangesAsync();
        // Generous: a TCG boot takes 5-10 s alone, several times that when the cores are busy.
        await Serial.WaitForAsync(log => log.Contains(GuestConsole.Ready, StringComparison.Ordinal), GuestConsole.Ready, TimeSpan.FromSeconds(120), CancellationToken.None);
    }

    public override async ValueTask DisposeAsync()
    {
        await using (var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            var host = await db.Hosts.SingleAsync(h => h.Name == HostName);
            await Services.GetRequiredService<HypervisorRegistry>().For(host).DeleteAsync(VmId, CancellationToken.None);
        }

        await base.DisposeAsync();
    }
}
