using System.Threading.Channels;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Libvirt.Tests;

/// <summary>
/// The adapter against libvirt's in-process test driver (no daemon), on a node file of the class's own
/// (<see cref="TestDriverNode"/>): each test's adapter has a private driver state that starts from that
/// node, so no other test, in this class or beside it, can add a domain to what a test sees.
/// </summary>
public sealed class TestDriverTests(TestDriverNode node) : IClassFixture<TestDriverNode>, IAsyncLifetime
{
    private readonly LibvirtHypervisor _hypervisor = new(new LibvirtHostOptions
    {
        Uri = node.Uri,
        DomainType = "test",
        StoragePool = TestDriverNode.Pool,
    });

    private static readonly DomainInfo NodeDomain = new(
        TestDriverNode.TestDomainId, TestDriverNode.TestDomainName, DomainState.Running, TestDriverNode.TestDomainVCpus, TestDriverNode.TestDomainMemoryMiB);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _hypervisor.DisposeAsync();

    private static DomainSpec NewSpec()
    {
        var id = Guid.NewGuid();
        return new DomainSpec(id, $"vp-{id:N}"[..16], 2, 256, 1, "tiny");
    }

    [Fact]
    public async Task Host_facts_report_the_test_driver_s_node()
    {
        var facts = await _hypervisor.GetHostFactsAsync(Ct);

        Assert.False(string.IsNullOrWhiteSpace(facts.Hostname));
        Assert.Equal((TestDriverNode.Cpus, TestDriverNode.MemoryMiB), (facts.Cpus, facts.MemoryMiB));
        Assert.Equal((TestDriverNode.PoolCapacityGiB, TestDriverNode.PoolCapacityGiB), (facts.StorageCapacityGiB, facts.StorageFreeGiB));
        Assert.StartsWith("libvirt ", facts.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_facts_say_the_test_driver_cannot_run_kvm_guests_and_why()
    {
        // Its node is an i686 CPU without a model or flags, and it offers only domains of type "test".
        var facts = await _hypervisor.GetHostFactsAsync(Ct);

        Assert.False(facts.KvmAvailable);
        Assert.Equal("CPU has no vmx/svm flag and libvirt offers no kvm domain type for i686", facts.AccelerationReason);
    }

    [Fact]
    public async Task Listing_shows_the_node_s_own_domain_and_nothing_else()
    {
        var domains = await _hypervisor.ListDomainsAsync(Ct);

        Assert.Equal([NodeDomain], domains);
    }

    [Fact]
    public async Task Adapters_over_the_same_node_file_do_not_see_each_other_s_domains()
    {
        // What keeps these tests apart: were the node's state shared like test:///default's, tests
        // running at the same time would see each other's domains again.
        await using var other = new LibvirtHypervisor(new LibvirtHostOptions { Uri = node.Uri, DomainType = "test", StoragePool = TestDriverNode.Pool });
        var spec = NewSpec();

        await _hypervisor.CreateAsync(spec, Ct);

        Assert.Equal([NodeDomain], await other.ListDomainsAsync(Ct));
        Assert.Null(await other.GetDomainAsync(spec.Id, Ct));
    }

    [Fact]
    public async Task Create_defines_and_starts_a_domain_with_the_spec_s_uuid()
    {
        var spec = NewSpec();

        var created = await _hypervisor.CreateAsync(spec, Ct);

        Assert.Equal(new DomainInfo(spec.Id, spec.Name, DomainState.Running, 2, 256), created);
        Assert.Equal(created, await _hypervisor.GetDomainAsync(spec.Id, Ct));
        Assert.Equal(new[] { NodeDomain, created }.OrderBy(d => d.Id), (await _hypervisor.ListDomainsAsync(Ct)).OrderBy(d => d.Id));
    }

    [Fact]
    public async Task Creating_a_known_id_again_returns_the_existing_domain()
    {
        var spec = NewSpec();
        var first = await _hypervisor.CreateAsync(spec, Ct);

        var second = await _hypervisor.CreateAsync(spec with { VCpus = 4 }, Ct);

        Assert.Equal(first, second);
        Assert.Single(await _hypervisor.ListDomainsAsync(Ct), d => d.Id == spec.Id);
    }

    [Fact]
    public async Task Lifecycle_actions_move_the_domain_through_libvirt_s_states()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);

        await _hypervisor.SuspendAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Paused, await StateAsync(spec.Id));
        await _hypervisor.ResumeAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Running, await StateAsync(spec.Id));
        await _hypervisor.ShutdownAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Shutoff, await StateAsync(spec.Id));
        await _hypervisor.StartAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Running, await StateAsync(spec.Id));
        await _hypervisor.RebootAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Running, await StateAsync(spec.Id));
        await _hypervisor.ForceOffAsync(spec.Id, Ct);
        Assert.Equal(DomainState.Shutoff, await StateAsync(spec.Id));
    }

    [Fact]
    public async Task Actions_that_reach_the_wanted_state_already_succeed()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);

        await _hypervisor.StartAsync(spec.Id, Ct);
        await _hypervisor.ResumeAsync(spec.Id, Ct);
        await _hypervisor.ForceOffAsync(spec.Id, Ct);
        await _hypervisor.ForceOffAsync(spec.Id, Ct);

        Assert.Equal(DomainState.Shutoff, await StateAsync(spec.Id));
    }

    [Fact]
    public async Task Delete_removes_a_running_domain_and_succeeds_when_it_is_gone()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);

        await _hypervisor.DeleteAsync(spec.Id, Ct);
        await _hypervisor.DeleteAsync(spec.Id, Ct);

        Assert.Null(await _hypervisor.GetDomainAsync(spec.Id, Ct));
        Assert.DoesNotContain(await _hypervisor.ListDomainsAsync(Ct), d => d.Id == spec.Id);
    }

    [Fact]
    public async Task Resize_changes_vcpus_and_memory_of_a_shut_off_domain()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);
        await _hypervisor.ForceOffAsync(spec.Id, Ct);

        await _hypervisor.ResizeAsync(spec.Id, 3, 512, Ct);

        var resized = await _hypervisor.GetDomainAsync(spec.Id, Ct);
        Assert.Equal((3, 512), (resized!.VCpus, resized.MemoryMiB));
    }

    [Fact]
    public async Task Resize_of_a_running_domain_is_a_conflict()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);

        await Assert.ThrowsAsync<HypervisorConflictException>(() => _hypervisor.ResizeAsync(spec.Id, 3, 512, Ct));
    }

    [Fact]
    public async Task A_lifecycle_change_arrives_as_an_event()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);
        var events = Channel.CreateUnbounded<DomainEvent>();
        using var subscription = _hypervisor.SubscribeEvents(e => events.Writer.WriteAsync(e, Ct).AsTask());

        await _hypervisor.SuspendAsync(spec.Id, Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        DomainEvent received;
        do
        {
            received = await events.Reader.ReadAsync(timeout.Token);
        }
        while (received.Id != spec.Id);
        Assert.Equal(new DomainEvent(spec.Id, spec.Name, DomainState.Paused, "Suspended"), received);
    }

    [Fact]
    public async Task An_unknown_id_is_not_found()
    {
        var unknown = Guid.NewGuid();

        Assert.Null(await _hypervisor.GetDomainAsync(unknown, Ct));
        await Assert.ThrowsAsync<HypervisorNotFoundException>(() => _hypervisor.StartAsync(unknown, Ct));
        await Assert.ThrowsAsync<HypervisorNotFoundException>(() => _hypervisor.SuspendAsync(unknown, Ct));
    }

    [Fact]
    public async Task Suspending_a_shut_off_domain_is_a_conflict_in_libvirt_s_words()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);
        await _hypervisor.ForceOffAsync(spec.Id, Ct);

        var error = await Assert.ThrowsAsync<HypervisorConflictException>(() => _hypervisor.SuspendAsync(spec.Id, Ct));

        Assert.Contains("not running", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_held_by_another_domain_is_a_conflict()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);

        await Assert.ThrowsAsync<HypervisorConflictException>(() => _hypervisor.CreateAsync(spec with { Id = Guid.NewGuid() }, Ct));
    }

    [Fact]
    public async Task A_host_that_cannot_be_opened_is_unreachable_and_transient()
    {
        await using var broken = new LibvirtHypervisor(new LibvirtHostOptions { Uri = "test:///no/such/node.xml", DomainType = "test" });

        var error = await Assert.ThrowsAsync<HypervisorUnreachableException>(() => broken.ListDomainsAsync(Ct));

        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task Bulk_stats_return_a_record_per_domain()
    {
        var spec = NewSpec();
        await _hypervisor.CreateAsync(spec, Ct);

        var stats = await _hypervisor.GetAllStatsAsync(Ct);

        // The node's domain and the one this test made: the test's adapter sees no other test's domains.
        Assert.Equal(new[] { TestDriverNode.TestDomainId, spec.Id }.Order(), stats.Select(s => s.Id).Order());
        Assert.Equal(stats.Select(s => s.Id).Order(), (await _hypervisor.ListDomainsAsync(Ct)).Select(d => d.Id).Order());
    }

    private async Task<DomainState?> StateAsync(Guid id) => (await _hypervisor.GetDomainAsync(id, Ct))?.State;
}
