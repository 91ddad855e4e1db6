using System.Diagnostics;
using System.Threading.Channels;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>The adapter against a real libvirtd with QEMU (TCG: KVM does not work on these machines).</summary>
public sealed class SystemDaemonTests(SystemLibvirtFixture fixture) : SystemGuestTest(fixture)
{
    [Fact]
    public async Task Create_boots_a_qemu_guest_that_virsh_sees_running_and_delete_removes_it()
    {
        var spec = NewSpec();
        var id = spec.Id;
        var console = ConsoleOf(spec);

        var clock = Stopwatch.StartNew();
        var created = await Hypervisor.CreateAsync(spec, Ct);
        var createToRunning = clock.Elapsed;
        // A complete first line on the serial console: the guest's kernel is running, not just QEMU.
        var toFirstLine = await console.WaitForAsync(text => text.Contains('\n', StringComparison.Ordinal), "a first line", BootTimeout, Ct);

        Assert.Equal(new DomainInfo(id, spec.Name, DomainState.Running, 1, 128), created);
        Assert.Equal((0, "running"), await SystemLibvirtFixture.VirshAsync("domstate", spec.Name));
        Assert.Equal((0, id.ToString("D")), await SystemLibvirtFixture.VirshAsync("domuuid", spec.Name));
        Assert.Contains(GuestConsole.KernelBanner, console.Read(), StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"create call: {createToRunning.TotalMilliseconds:F0} ms");
        TestContext.Current.TestOutputHelper?.WriteLine($"create returned -> first console line: {toFirstLine.TotalMilliseconds:F0} ms");

        clock.Restart();
        await Hypervisor.DeleteAsync(id, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"delete: {clock.Elapsed.TotalMilliseconds:F0} ms");

        Assert.NotEqual(0, (await SystemLibvirtFixture.VirshAsync("domstate", spec.Name)).ExitCode);
        Assert.Null(await Hypervisor.GetDomainAsync(id, Ct));
    }

    [Fact]
    public async Task A_running_guest_reports_console_and_counters_and_shuts_down_on_the_power_button()
    {
        var spec = NewSpec();
        var events = Channel.CreateUnbounded<DomainEvent>();
        using var subscription = Hypervisor.SubscribeEvents(e => e.Id == spec.Id ? events.Writer.WriteAsync(e, Ct).AsTask() : Task.CompletedTask);
        await Hypervisor.CreateAsync(spec, Ct);

        var console = await Hypervisor.GetConsoleAsync(spec.Id, Ct);
        var first = Assert.Single(await Hypervisor.GetAllStatsAsync(Ct), s => s.Id == spec.Id);
        // The guest is booting, so its vCPU is busy: a second later the cumulative CPU time must have grown.
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        var second = Assert.Single(await Hypervisor.GetAllStatsAsync(Ct), s => s.Id == spec.Id);

        Assert.NotNull(console);
        Assert.Equal("127.0.0.1", console.Host);
        Assert.True(console.Port >= 5900);
        Assert.NotNull(console.WebSocketPort);
        Assert.True(first.CpuTimeNs > 0);
        Assert.True(second.CpuTimeNs > first.CpuTimeNs, $"cpu time {first.CpuTimeNs} ns, a second later {second.CpuTimeNs} ns");
        Assert.True(second.At > first.At);
        Assert.Equal(1, second.VCpus);
        Assert.Equal(128UL * 1024, second.MemoryMaxKiB);
        Assert.InRange(second.MemoryUsedKiB, 1UL, 1024UL * 1024);

        // The guest hears the ACPI button only once its acpid runs (about 6 s of TCG boot), and a press
        // before that is lost, so the button is pressed again until the guest stops.
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        DomainEvent? stopped = null;
        while (stopped is null)
        {
            await Hypervisor.ShutdownAsync(spec.Id, timeout.Token);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            wait.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                while (stopped is null)
                {
                    var received = await events.Reader.ReadAsync(wait.Token);
                    if (received.Detail.StartsWith("Stopped", StringComparison.Ordinal))
                        stopped = received;
                }
            }
            catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
            {
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"created -> shut off by ACPI: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(new DomainEvent(spec.Id, spec.Name, DomainState.Shutoff, "Stopped (shutdown)"), stopped);
        Assert.Equal((0, "shut off"), await SystemLibvirtFixture.VirshAsync("domstate", spec.Name));
    }

    [Fact]
    public async Task Host_facts_include_the_default_pool()
    {
        var facts = await Hypervisor.GetHostFactsAsync(Ct);

        Assert.True(facts.Cpus > 0);
        Assert.True(facts.StorageCapacityGiB > 0);
        Assert.InRange(facts.StorageFreeGiB, 1, facts.StorageCapacityGiB);
    }

    [Fact]
    public async Task A_guest_from_a_pool_image_runs_on_a_qcow2_overlay_that_delete_removes()
    {
        var spec = NewSpec() with { ImageRef = SystemLibvirtFixture.BlankImageRef, DiskGiB = 2 };
        var overlay = PoolStorage.OverlayName(spec.Id);

        var created = await Hypervisor.CreateAsync(spec, Ct);
        var (volumeExit, volumeXml) = await SystemLibvirtFixture.VirshAsync("vol-dumpxml", "--pool", SystemLibvirtFixture.Pool, overlay);
        var (_, disks) = await SystemLibvirtFixture.VirshAsync("domblklist", spec.Name);

        Assert.Equal(DomainState.Running, created.State);
        Assert.Equal(0, volumeExit);
        Assert.Contains("<capacity unit='bytes'>2147483648</capacity>", volumeXml, StringComparison.Ordinal);
        Assert.Contains("/var/lib/libvirt/images/vp-blank.qcow2", volumeXml, StringComparison.Ordinal);
        Assert.Contains("/var/lib/libvirt/images/" + overlay, disks, StringComparison.Ordinal);

        await Hypervisor.DeleteAsync(spec.Id, Ct);

        Assert.NotEqual(0, (await SystemLibvirtFixture.VirshAsync("vol-info", "--pool", SystemLibvirtFixture.Pool, overlay)).ExitCode);
    }
}
