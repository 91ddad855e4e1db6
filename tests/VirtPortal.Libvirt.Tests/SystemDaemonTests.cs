using System.Diagnostics;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>The adapter against a real libvirtd with QEMU (TCG: KVM does not work on these machines).</summary>
public sealed class SystemDaemonTests(SystemLibvirtFixture fixture) : IClassFixture<SystemLibvirtFixture>, IAsyncLifetime
{
    private readonly LibvirtHypervisor _hypervisor = new(new LibvirtHostOptions { Uri = SystemLibvirtFixture.Uri, DomainType = "qemu" });
    private readonly List<Guid> _created = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Assert.NotNull(fixture);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _created)
            await _hypervisor.DeleteAsync(id, CancellationToken.None);
        await _hypervisor.DisposeAsync();
    }

    [Fact]
    public async Task Create_boots_a_qemu_guest_that_virsh_sees_running_and_delete_removes_it()
    {
        var id = Guid.NewGuid();
        var spec = new DomainSpec(id, $"vp-it-{id:N}"[..14], 1, 128, 1, SystemLibvirtFixture.ImageRef);
        _created.Add(id);

        var clock = Stopwatch.StartNew();
        var created = await _hypervisor.CreateAsync(spec, Ct);
        var createToRunning = clock.Elapsed;

        Assert.Equal(new DomainInfo(id, spec.Name, DomainState.Running, 1, 128), created);
        Assert.Equal((0, "running"), await SystemLibvirtFixture.VirshAsync("domstate", spec.Name));
        Assert.Equal((0, id.ToString("D")), await SystemLibvirtFixture.VirshAsync("domuuid", spec.Name));
        TestContext.Current.TestOutputHelper?.WriteLine($"create -> running: {createToRunning.TotalMilliseconds:F0} ms");

        clock.Restart();
        await _hypervisor.DeleteAsync(id, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"delete: {clock.Elapsed.TotalMilliseconds:F0} ms");

        Assert.NotEqual(0, (await SystemLibvirtFixture.VirshAsync("domstate", spec.Name)).ExitCode);
        Assert.Null(await _hypervisor.GetDomainAsync(id, Ct));
    }
}
