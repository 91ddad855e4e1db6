using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// Restarting libvirtd cuts every client's connection, so these tests run alone: xunit runs a collection
/// with parallelization disabled after all the others, never beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DaemonRestartCollection
{
    public const string Name = "libvirtd restart";
}

[Collection(DaemonRestartCollection.Name)]
public sealed class DaemonRestartTests : IClassFixture<SystemLibvirtFixture>, IAsyncLifetime
{
    private static readonly LibvirtHostOptions Options = new() { Uri = SystemLibvirtFixture.Uri, DomainType = "qemu" };
    private readonly RecordingLogger<LibvirtHypervisor> _log = new();
    private readonly LibvirtHypervisor _hypervisor;

    // Without event subscribers nothing reconnects early: its first call after the restart must do it.
    private readonly LibvirtHypervisor _withoutSubscribers = new(Options);
    private readonly List<Guid> _created = [];

    private readonly SystemLibvirtFixture _fixture;

    public DaemonRestartTests(SystemLibvirtFixture fixture)
    {
        _fixture = fixture;
        _hypervisor = new LibvirtHypervisor(Options, _log);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Assert.NotNull(_fixture);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever happened, later tests (and other users of this machine) need the daemon back.
        await SystemLibvirtFixture.EnsureDaemonsAsync();
        foreach (var id in _created)
            await _hypervisor.DeleteAsync(id, CancellationToken.None);
        await _hypervisor.DisposeAsync();
        await _withoutSubscribers.DisposeAsync();
    }

    [Fact]
    public async Task After_libvirtd_restarts_events_resume_by_themselves_and_calls_succeed_on_the_same_adapters()
    {
        var id = Guid.NewGuid();
        _created.Add(id);
        var spec = new DomainSpec(id, $"vp-it-{id:N}"[..14], 1, 128, 1, SystemLibvirtFixture.ImageRef);
        var events = Channel.CreateUnbounded<DomainEvent>();
        using var subscription = _hypervisor.SubscribeEvents(e => e.Id == id ? events.Writer.WriteAsync(e, Ct).AsTask() : Task.CompletedTask);
        await _hypervisor.CreateAsync(spec, Ct);
        Assert.Contains(await _withoutSubscribers.ListDomainsAsync(Ct), d => d.Id == id);
        var qemu = await QemuPidAsync(spec.Name);
        var connects = Connects();

        // No adapter call while the daemon is away, as when a supervisor restarts it between two
        // reconciler passes: nothing but the dead connection tells the adapters.
        var clock = Stopwatch.StartNew();
        try
        {
            await StopLibvirtdAsync();
        }
        finally
        {
            await SystemLibvirtFixture.EnsureDaemonsAsync();
        }

        var restarted = clock.Elapsed;

        // The subscribed adapter reconnects on its own; only then can an event for a change be expected.
        while (Connects() == connects)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "The adapter with a subscriber did not reconnect within 60 s:\n" + string.Join('\n', _log.Messages));
            await Task.Delay(100, Ct);
        }

        var reconnected = clock.Elapsed;
        Assert.Equal(0, (await SystemLibvirtFixture.VirshAsync("suspend", spec.Name)).ExitCode);
        var paused = await GuestLifecycleTests.NextAsync(events, e => e.State is DomainState.Paused);

        Assert.Equal(new DomainEvent(id, spec.Name, DomainState.Paused, "Suspended"), paused);
        var listed = Assert.Single(await _withoutSubscribers.ListDomainsAsync(Ct), d => d.Id == id);
        Assert.Equal(DomainState.Paused, listed.State);
        Assert.Equal(DomainState.Paused, (await _hypervisor.GetDomainAsync(id, Ct))?.State);
        // libvirtd came back to the same QEMU: the guest never stopped.
        Assert.Equal(qemu, await QemuPidAsync(spec.Name));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"libvirtd down and up again: {restarted.TotalMilliseconds:F0} ms; subscribed adapter reconnected after {reconnected.TotalMilliseconds:F0} ms");
    }

    private int Connects() => _log.Messages.Count(m => m.StartsWith("Connected to ", StringComparison.Ordinal));

    /// <summary>The guest's QEMU process, which outlives libvirtd.</summary>
    private static async Task<int> QemuPidAsync(string domain)
    {
        var pidFile = $"/run/libvirt/qemu/{domain}.pid";
        Assert.True(File.Exists(pidFile), pidFile);
        return int.Parse((await File.ReadAllTextAsync(pidFile, Ct)).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>SIGTERM, as an init system stops it, and waits until the process has gone.</summary>
    private static async Task StopLibvirtdAsync()
    {
        Assert.True(SystemLibvirtFixture.IsRunning(SystemLibvirtFixture.LibvirtdPidFile), "libvirtd is not running");
        var pid = int.Parse((await File.ReadAllTextAsync(SystemLibvirtFixture.LibvirtdPidFile, Ct)).Trim(), CultureInfo.InvariantCulture);
        using var daemon = Process.GetProcessById(pid);
        using (var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync(Ct);

        var clock = Stopwatch.StartNew();
        while (!daemon.HasExited)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "libvirtd did not stop within 30 s of SIGTERM");
            await Task.Delay(50, Ct);
        }
    }
}
