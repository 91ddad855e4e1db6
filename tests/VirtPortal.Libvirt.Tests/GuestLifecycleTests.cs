using System.Diagnostics;
using System.Threading.Channels;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// Lifecycle actions on one real, booted guest (qemu:///system, TCG), each checked through virsh as an
/// independent client or on the guest's own serial console. A class of its own so that it runs in
/// parallel with <see cref="SystemDaemonTests"/>.
/// </summary>
public sealed class GuestLifecycleTests(SystemLibvirtFixture fixture) : SystemGuestTest(fixture)
{
    [Fact]
    public async Task A_guest_pauses_resumes_reboots_is_forced_off_and_is_resized_only_while_shut_off()
    {
        var spec = NewSpec();
        var console = ConsoleOf(spec);
        var steps = new List<string>();
        var clock = Stopwatch.StartNew();
        await Hypervisor.CreateAsync(spec, Ct);
        await console.WaitForCountAsync(GuestConsole.Ready, 1, BootTimeout, Ct);
        steps.Add($"boot {clock.Elapsed.TotalSeconds:F1} s");

        clock.Restart();
        await Hypervisor.SuspendAsync(spec.Id, Ct);
        Assert.Equal((0, "paused (user)"), await SystemLibvirtFixture.VirshAsync("domstate", "--reason", spec.Name));
        Assert.Equal(DomainState.Paused, (await Hypervisor.GetDomainAsync(spec.Id, Ct))?.State);
        await Hypervisor.ResumeAsync(spec.Id, Ct);
        Assert.Equal((0, "running (unpaused)"), await SystemLibvirtFixture.VirshAsync("domstate", "--reason", spec.Name));
        steps.Add($"suspend+resume {clock.Elapsed.TotalMilliseconds:F0} ms");

        // IHypervisor.ResizeAsync: "the domain must be shut off".
        await Assert.ThrowsAsync<HypervisorConflictException>(() => Hypervisor.ResizeAsync(spec.Id, 2, 192, Ct));
        Assert.Equal("1", (await SystemLibvirtFixture.DomInfoAsync(spec.Name))["CPU(s)"]);

        // A reboot keeps the QEMU process (libvirt resets it once the guest powers off), so the console
        // log goes on and shows the kernel starting a second time.
        clock.Restart();
        await RebootUntilHeardAsync(spec.Id, console);
        await console.WaitForCountAsync(GuestConsole.Ready, 2, BootTimeout, Ct);
        steps.Add($"reboot {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(console.Count(GuestConsole.KernelBanner) >= 2, console.Read());
        Assert.Equal((0, "running"), await SystemLibvirtFixture.VirshAsync("domstate", spec.Name));

        clock.Restart();
        await Hypervisor.ForceOffAsync(spec.Id, Ct);
        Assert.Equal((0, "shut off (destroyed)"), await SystemLibvirtFixture.VirshAsync("domstate", "--reason", spec.Name));
        steps.Add($"force off {clock.Elapsed.TotalMilliseconds:F0} ms");

        await Hypervisor.ResizeAsync(spec.Id, 2, 192, Ct);
        var resized = await SystemLibvirtFixture.DomInfoAsync(spec.Name);
        Assert.Equal("2", resized["CPU(s)"]);
        Assert.Equal("196608 KiB", resized["Max memory"]);
        Assert.Equal("196608 KiB", resized["Used memory"]);
        Assert.Equal(new DomainInfo(spec.Id, spec.Name, DomainState.Shutoff, 2, 192), await Hypervisor.GetDomainAsync(spec.Id, Ct));

        // The guest's own kernel must see the new size, not just libvirt's definition.
        clock.Restart();
        await Hypervisor.StartAsync(spec.Id, Ct);
        await console.WaitForAsync(text => text.Contains(GuestConsole.Ready, StringComparison.Ordinal), "a boot after the resize", BootTimeout, Ct);
        steps.Add($"start after resize {clock.Elapsed.TotalSeconds:F1} s");
        var log = console.Read();
        Assert.Contains("Brought up 1 node, 2 CPUs", log, StringComparison.Ordinal);
        Assert.Equal("running", (await SystemLibvirtFixture.DomInfoAsync(spec.Name))["State"]);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("; ", steps));
    }

    [Fact]
    public async Task A_change_made_with_virsh_arrives_as_an_event_for_that_domain()
    {
        var spec = NewSpec();
        var events = Channel.CreateUnbounded<DomainEvent>();
        using var subscription = Hypervisor.SubscribeEvents(e => e.Id == spec.Id ? events.Writer.WriteAsync(e, Ct).AsTask() : Task.CompletedTask);
        await Hypervisor.CreateAsync(spec, Ct);

        Assert.Equal(0, (await SystemLibvirtFixture.VirshAsync("suspend", spec.Name)).ExitCode);
        var paused = await NextAsync(events, e => e.State is DomainState.Paused);
        Assert.Equal(0, (await SystemLibvirtFixture.VirshAsync("resume", spec.Name)).ExitCode);
        var resumed = await NextAsync(events, e => e.Detail == "Resumed");

        Assert.Equal(new DomainEvent(spec.Id, spec.Name, DomainState.Paused, "Suspended"), paused);
        Assert.Equal(new DomainEvent(spec.Id, spec.Name, DomainState.Running, "Resumed"), resumed);
    }

    /// <summary>
    /// "Ready" is printed as acpid starts, a moment before it may listen, and a press nobody hears is
    /// lost, so the button is pressed again until the guest's kernel reports powering down.
    /// </summary>
    private async Task RebootUntilHeardAsync(Guid id, GuestConsole console)
    {
        var before = console.Count(GuestConsole.PowerDown);
        var clock = Stopwatch.StartNew();
        do
        {
            await Hypervisor.RebootAsync(id, Ct);
            if (await console.WaitUntilAsync(text => GuestConsole.Occurrences(text, GuestConsole.PowerDown) > before, TimeSpan.FromSeconds(10), Ct))
                return;
        }
        while (clock.Elapsed < BootTimeout);

        Assert.Fail($"The guest did not answer the reboot within {BootTimeout.TotalSeconds:F0} s:\n{console.Read()}");
    }

    internal static async Task<DomainEvent> NextAsync(Channel<DomainEvent> events, Func<DomainEvent, bool> wanted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var received = await events.Reader.ReadAsync(timeout.Token);
                if (wanted(received))
                    return received;
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            Assert.Fail("The expected event did not arrive within 30 s.");
            throw;
        }
    }
}
