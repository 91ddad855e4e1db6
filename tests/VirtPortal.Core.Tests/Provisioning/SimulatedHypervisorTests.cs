using Microsoft.Extensions.Time.Testing;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;

namespace VirtPortal.Core.Tests.Provisioning;

public sealed class SimulatedHypervisorTests : IDisposable
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));
    private readonly string stateFile = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.json");
    private readonly SimulatedHypervisor host;

    public SimulatedHypervisorTests() => host = new SimulatedHypervisor("demo", stateFile, time);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DomainSpec Spec(string name = "vp-web") => new(Guid.NewGuid(), name, 2, 2048, 20, "debian-12-base");

    [Fact]
    public async Task Create_defines_and_starts_the_domain_under_the_given_uuid()
    {
        var spec = Spec();

        var created = await host.CreateAsync(spec, Ct);

        Assert.Equal(new DomainInfo(spec.Id, "vp-web", DomainState.Running, 2, 2048), created);
        Assert.Equal(created, await host.GetDomainAsync(spec.Id, Ct));
    }

    [Fact]
    public async Task A_retried_create_finds_the_domain_it_already_made()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);

        await host.CreateAsync(spec, Ct);

        Assert.Single(await host.ListDomainsAsync(Ct));
    }

    [Fact]
    public async Task A_name_taken_by_another_uuid_is_a_conflict()
    {
        await host.CreateAsync(Spec("vp-a"), Ct);

        await Assert.ThrowsAsync<HypervisorConflictException>(() => host.CreateAsync(Spec("vp-a"), Ct));
    }

    [Fact]
    public async Task Lifecycle_follows_libvirt_shutdown_start_suspend_resume_force_off()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);

        await host.ShutdownAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Shutoff, (await host.GetDomainAsync(spec.Id, Ct))!.State);
        await host.StartAsync(spec.Id, Ct);
        await host.StartAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Running, (await host.GetDomainAsync(spec.Id, Ct))!.State);
        await host.SuspendAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Paused, (await host.GetDomainAsync(spec.Id, Ct))!.State);
        await host.ResumeAsync(spec.Id, Ct);
        await host.ForceOffAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Shutoff, (await host.GetDomainAsync(spec.Id, Ct))!.State);
    }

    [Fact]
    public async Task Resize_needs_a_shut_off_domain()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);

        await Assert.ThrowsAsync<HypervisorConflictException>(() => host.ResizeAsync(spec.Id, 4, 4096, Ct));
        await host.ForceOffAsync(spec.Id, Ct);
        await host.ResizeAsync(spec.Id, 4, 4096, Ct);

        Assert.Equal(new DomainInfo(spec.Id, "vp-web", DomainState.Shutoff, 4, 4096), await host.GetDomainAsync(spec.Id, Ct));
    }

    [Fact]
    public async Task Deleting_a_missing_domain_succeeds_and_acting_on_it_is_not_found()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);

        await host.DeleteAsync(spec.Id, Ct);
        await host.DeleteAsync(spec.Id, Ct);

        Assert.Null(await host.GetDomainAsync(spec.Id, Ct));
        await Assert.ThrowsAsync<HypervisorNotFoundException>(() => host.StartAsync(spec.Id, Ct));
    }

    [Fact]
    public async Task Domains_survive_a_restart_of_the_portal()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);
        await host.ShutdownAsync(spec.Id, Ct);

        await using var restarted = new SimulatedHypervisor("demo", stateFile, time);

        Assert.Equal(DomainState.Shutoff, (await restarted.GetDomainAsync(spec.Id, Ct))!.State);
    }

    [Fact]
    public async Task Lifecycle_events_report_every_change_including_ones_made_outside_the_portal()
    {
        var events = new List<DomainEvent>();
        using var subscription = host.SubscribeEvents(e =>
        {
            lock (events)
                events.Add(e);
            return Task.CompletedTask;
        });
        var spec = Spec();

        await host.CreateAsync(spec, Ct);
        await host.SetStateOutsideAsync(spec.Id, DomainState.Shutoff);

        Assert.Equal([DomainState.Running, DomainState.Shutoff], events.Select(e => e.State));
        Assert.Equal("changed outside the portal", events[^1].Detail);
    }

    [Fact]
    public async Task Cpu_time_grows_while_a_domain_runs()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);
        var before = (await host.GetAllStatsAsync(Ct)).Single();

        time.Advance(TimeSpan.FromSeconds(30));
        var after = (await host.GetAllStatsAsync(Ct)).Single();

        Assert.True(after.CpuTimeNs > before.CpuTimeNs);
        Assert.True(after.NetRxBytes > before.NetRxBytes);
        Assert.Equal(2048UL * 1024, after.MemoryMaxKiB);
    }

    [Fact]
    public async Task Counters_stand_still_while_paused_and_start_from_zero_after_a_stop()
    {
        var spec = Spec();
        await host.CreateAsync(spec, Ct);
        time.Advance(TimeSpan.FromSeconds(30));
        await host.SuspendAsync(spec.Id, Ct);
        var paused = (await host.GetAllStatsAsync(Ct)).Single();

        time.Advance(TimeSpan.FromSeconds(30));
        var stillPaused = (await host.GetAllStatsAsync(Ct)).Single();
        await host.ForceOffAsync(spec.Id, Ct);
        var off = (await host.GetAllStatsAsync(Ct)).Single();
        await host.StartAsync(spec.Id, Ct);
        time.Advance(TimeSpan.FromSeconds(5));
        var restarted = (await host.GetAllStatsAsync(Ct)).Single();

        Assert.Equal(DomainState.Paused, paused.State);
        Assert.True(paused.CpuTimeNs > 0 && paused.DiskReadBytes > 0);
        Assert.Equal(paused with { At = stillPaused.At }, stillPaused);
        Assert.Equal((DomainState.Shutoff, 0UL, 0UL, MemoryUsedSource.None), (off.State, off.CpuTimeNs, off.NetTxBytes, off.MemoryUsedSource));
        Assert.InRange(restarted.CpuTimeNs, 1UL, paused.CpuTimeNs - 1);
        Assert.Equal(MemoryUsedSource.Guest, restarted.MemoryUsedSource);
    }

    [Fact]
    public async Task An_injected_failure_fails_that_call_only_as_often_as_asked()
    {
        host.Faults.Fail("Define", () => new HypervisorUnreachableException("connection reset"), times: 1);
        var spec = Spec();

        var error = await Assert.ThrowsAsync<HypervisorUnreachableException>(() => host.CreateAsync(spec, Ct));
        await host.CreateAsync(spec, Ct);

        Assert.True(error.IsTransient);
        Assert.Single(await host.ListDomainsAsync(Ct));
    }

    [Fact]
    public async Task An_injected_hang_blocks_the_call_until_released()
    {
        host.Faults.Hang("Start");
        var spec = Spec();

        var start = host.CreateAsync(spec, Ct);
        Assert.False(start.IsCompleted);
        host.Faults.Release("Start");

        Assert.Equal(DomainState.Running, (await start).State);
    }

    public void Dispose()
    {
        if (File.Exists(stateFile))
            File.Delete(stateFile);
    }
}
