using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Common;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Tests.Requests;
using VirtPortal.Core.Users;

namespace VirtPortal.Core.Tests.Hosts;

/// <summary>The admins' host operations over the simulated host "demo" that the first run registers.</summary>
public sealed class HostServiceTests : IAsyncLifetime
{
    private PortalTestHost host = default!;
    private readonly List<IDisposable> subscriptions = [];
    private RequestScenario scenario = default!;
    private Actor admin = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HostService Hosts => host.Services.GetRequiredService<HostService>();

    private HypervisorRegistry Registry => host.Services.GetRequiredService<HypervisorRegistry>();

    private ProvisioningService Provisioning => host.Services.GetRequiredService<ProvisioningService>();

    public async ValueTask InitializeAsync()
    {
        host = await PortalTestHost.StartAsync();
        scenario = await RequestTestData.ArrangeAsync(host);
        admin = scenario.Admin;
    }

    public async ValueTask DisposeAsync()
    {
        subscriptions.ForEach(s => s.Dispose());
        await host.DisposeAsync();
    }

    [Fact]
    public async Task The_list_shows_each_hosts_capacity_with_overcommit_and_what_is_placed_on_it()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        var demo = Assert.Single(await Hosts.ListAsync(admin, Ct));

        Assert.Equal(("demo", HostDriver.Simulated, HostState.Online), (demo.Name, demo.Driver, demo.State));
        Assert.Equal((32, 128.0, 131072.0), (demo.Cpus, demo.VCpuCapacity, demo.RamCapacityMiB));
        Assert.Equal((2, 4096L, 40L, 1), (demo.AllocatedVCpus, demo.AllocatedRamMiB, demo.AllocatedDiskGiB, demo.Vms));
    }

    [Fact]
    public async Task Adding_a_host_asks_it_for_its_facts_registers_it_online_audits_and_announces_it()
    {
        var changes = Follow<HostChanged>();

        var added = await Hosts.AddAsync(admin, Simulated("rack-2", cpu: 8, ram: 1.5), Ct);

        Assert.Equal(("rack-2", HostState.Online, 32, 131072L), (added.Name, added.State, added.Cpus, added.MemoryMiB));
        Assert.Equal((8.0, 1.5, "simulated"), (added.CpuOvercommit, added.RamOvercommit, added.DomainType));
        Assert.Equal(host.Time.GetUtcNow(), added.LastSeenAt);
        Assert.Contains(await host.AuditAsync(AuditActions.HostRegistered), e => e.Target == "host rack-2" && e.ActorId == admin.UserId);
        Assert.Equal(added.Id, (await NextAsync(changes)).EntityId);
        Assert.Equal(["demo", "rack-2"], (await Hosts.ListAsync(admin, Ct)).Select(h => h.Name));
    }

    [Theory]
    [InlineData("", "simulated://x", 4.0, 1.0, "Name", "Enter a name")]
    [InlineData("bad name!", "simulated://x", 4.0, 1.0, "Name", "only letters, digits")]
    [InlineData("-dash", "simulated://x", 4.0, 1.0, "Name", "starts with a letter or digit")]
    [InlineData("DEMO", "simulated://x", 4.0, 1.0, "Name", "A host named DEMO is already registered.")]
    [InlineData("rack-2", "qemu:///system", 4.0, 1.0, "Uri", "simulated://NAME")]
    [InlineData("rack-2", "simulated://demo", 4.0, 1.0, "Uri", "Host demo already connects to simulated://demo.")]
    [InlineData("rack-2", "simulated://x", 40.0, 1.0, "CpuOvercommit", "between 0.1 and 32")]
    [InlineData("rack-2", "simulated://x", 4.0, 0.0, "RamOvercommit", "between 0.1 and 4")]
    public async Task An_invalid_host_is_refused_with_the_reason_next_to_its_field_and_nothing_changes(
        string name, string uri, double cpu, double ram, string field, string message)
    {
        var input = new HostInput(name, HostDriver.Simulated, uri, "", cpu, ram);

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Hosts.AddAsync(admin, input, Ct));

        Assert.Contains(message, refused.For(field), StringComparison.Ordinal);
        await AssertOnlyDemoAsync();
    }

    [Fact]
    public async Task A_libvirt_host_is_refused_where_the_portal_has_no_libvirt_adapter()
    {
        var input = new HostInput("kvm-1", HostDriver.Libvirt, "qemu+ssh://root@kvm-1/system", "kvm", 4, 1);

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Hosts.AddAsync(admin, input, Ct));

        Assert.Equal("This portal has no adapter for Libvirt hosts.", refused.For(nameof(HostInput.Driver)));
        await AssertOnlyDemoAsync();
    }

    [Fact]
    public async Task Testing_a_draft_returns_its_facts_without_registering_it_or_keeping_an_adapter()
    {
        var adaptersBefore = Registry.Count;

        var test = await Hosts.TestDraftAsync(admin, Simulated("rack-2"), Ct);

        Assert.True(test.Succeeded);
        Assert.Equal(("rack-2", 32, 131072L, 2048L, "simulated 1.0"), (test.Facts!.Hostname, test.Facts.Cpus, test.Facts.MemoryMiB, test.Facts.StorageCapacityGiB, test.Facts.Version));
        Assert.Equal(adaptersBefore, Registry.Count);
        await AssertOnlyDemoAsync();
        Assert.Contains(await host.AuditAsync(AuditActions.HostTested), e => e.Target == "host rack-2" && e.Details.Contains("answered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Testing_a_draft_with_a_bad_uri_is_refused_before_anything_is_called()
    {
        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Hosts.TestDraftAsync(admin, new HostInput("rack-2", HostDriver.Simulated, "simulated://", "", 4, 1), Ct));

        Assert.NotNull(refused.For(nameof(HostInput.Uri)));
        Assert.Empty(await host.AuditAsync(AuditActions.HostTested));
    }

    [Fact]
    public async Task Testing_a_host_that_does_not_answer_marks_it_unreachable_with_the_hypervisors_words_and_a_later_answer_brings_it_back()
    {
        var demo = await DemoAsync();
        var seenBefore = demo.LastSeenAt;
        var hypervisor = (SimulatedHypervisor)Registry.For(await HostRowAsync("demo"));
        hypervisor.Faults.Fail("HostFacts", () => new HypervisorUnreachableException("Cannot connect to qemu+tcp://rack-2/system: Connection refused"));

        var failed = await Hosts.TestAsync(admin, demo.Id, Ct);

        Assert.False(failed.Succeeded);
        Assert.Equal("Cannot connect to qemu+tcp://rack-2/system: Connection refused", failed.Error);
        var down = await DemoAsync();
        Assert.Equal((HostState.Unreachable, failed.Error, seenBefore), (down.State, down.LastError, down.LastSeenAt));

        hypervisor.Faults.Clear();
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await Hosts.TestAsync(admin, demo.Id, Ct)).Succeeded);

        var up = await DemoAsync();
        Assert.Equal((HostState.Online, null, host.Time.GetUtcNow()), (up.State, up.LastError, up.LastSeenAt));
    }

    [Fact]
    public async Task A_request_placed_while_the_only_host_is_in_maintenance_fails_naming_it_and_succeeds_once_maintenance_ends()
    {
        var demo = await DemoAsync();
        await Hosts.SetMaintenanceAsync(admin, demo.Id, maintenance: true, Ct);

        var blocked = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        var refused = await host.RequestAsync(blocked);
        Assert.Equal((RequestState.Failed, "No host has room: demo is maintenance."), (refused.State, refused.FailureDetail));

        await Hosts.SetMaintenanceAsync(admin, demo.Id, maintenance: false, Ct);
        var placed = await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-2"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);

        Assert.Equal(RequestState.Completed, (await host.RequestAsync(placed)).State);
        Assert.Equal(HostState.Online, (await DemoAsync()).State);
        Assert.Single(await host.AuditAsync(AuditActions.HostMaintenanceStarted));
        Assert.Single(await host.AuditAsync(AuditActions.HostMaintenanceEnded));
    }

    [Fact]
    public async Task Testing_a_host_in_maintenance_refreshes_its_facts_but_keeps_it_in_maintenance()
    {
        var demo = await DemoAsync();
        await Hosts.SetMaintenanceAsync(admin, demo.Id, maintenance: true, Ct);

        Assert.True((await Hosts.TestAsync(admin, demo.Id, Ct)).Succeeded);

        Assert.Equal(HostState.Maintenance, (await DemoAsync()).State);
    }

    [Fact]
    public async Task Changing_overcommit_is_saved_and_audited_and_keeps_the_hosts_adapter()
    {
        var demo = await DemoAsync();
        var adapter = Registry.For(await HostRowAsync("demo"));

        var changed = await Hosts.UpdateAsync(admin, demo.Id, demo.ToInput() with { CpuOvercommit = 2, RamOvercommit = 1.25 }, Ct);

        Assert.Equal((2.0, 1.25, 64.0), (changed.CpuOvercommit, changed.RamOvercommit, changed.VCpuCapacity));
        Assert.Same(adapter, Registry.For(await HostRowAsync("demo")));
        Assert.Contains("overcommit CPU 2, RAM 1.25", Assert.Single(await host.AuditAsync(AuditActions.HostUpdated)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changing_a_hosts_uri_drops_its_adapter_and_asks_the_host_again()
    {
        var demo = await DemoAsync();
        var adapter = Registry.For(await HostRowAsync("demo"));

        var changed = await Hosts.UpdateAsync(admin, demo.Id, demo.ToInput() with { Name = "demo-2", Uri = "simulated://demo-2" }, Ct);

        Assert.Equal(("demo-2", "simulated://demo-2", HostState.Online), (changed.Name, changed.Uri, changed.State));
        var replacement = (SimulatedHypervisor)Registry.For(await HostRowAsync("demo-2"));
        Assert.NotSame(adapter, replacement);
        Assert.Equal("demo-2", replacement.HostName);
    }

    [Fact]
    public async Task An_invalid_change_is_refused_and_the_host_stays_as_it_was()
    {
        var demo = await DemoAsync();

        await Assert.ThrowsAsync<PortalValidationException>(() => Hosts.UpdateAsync(admin, demo.Id, demo.ToInput() with { RamOvercommit = 9 }, Ct));

        Assert.Equal(demo, await DemoAsync());
        Assert.Empty(await host.AuditAsync(AuditActions.HostUpdated));
    }

    [Fact]
    public async Task A_host_with_a_live_vm_is_not_removed_and_the_refusal_names_the_vm()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        var demo = await DemoAsync();

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Hosts.RemoveAsync(admin, demo.Id, Ct));

        Assert.Contains("demo still has 1 VM(s) placed on it (web-1)", refused.Message, StringComparison.Ordinal);
        await AssertOnlyDemoAsync();
    }

    [Fact]
    public async Task Removing_a_host_whose_vms_are_gone_forgets_it_and_its_adapter_and_keeps_the_vms_history()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        await using (var db = host.NewDb())
            await db.Resources.ExecuteUpdateAsync(s => s.SetProperty(r => r.State, ResourceState.Deleted), Ct);
        var demo = await DemoAsync();
        Registry.For(await HostRowAsync("demo"));
        var adaptersBefore = Registry.Count;
        var changes = Follow<HostChanged>();

        await Hosts.RemoveAsync(admin, demo.Id, Ct);

        Assert.Empty(await Hosts.ListAsync(admin, Ct));
        Assert.Equal(adaptersBefore - 1, Registry.Count);
        var vm = Assert.Single(await host.ResourcesAsync(scenario.TenantId));
        Assert.Null(vm.HostId);
        Assert.StartsWith("placed on demo", vm.PlacementReason, StringComparison.Ordinal);
        Assert.Single(await host.AuditAsync(AuditActions.HostRemoved));
        Assert.Equal(demo.Id, (await NextAsync(changes)).EntityId);
    }

    [Fact]
    public async Task The_driver_of_a_host_with_vms_placed_on_it_cannot_change()
    {
        await host.Drafts().SubmitAsync(scenario.Requester, scenario.NewVm("web-1"), Ct);
        await Provisioning.RunOnceAsync("worker", Ct);
        var demo = await DemoAsync();

        var refused = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Hosts.UpdateAsync(admin, demo.Id, demo.ToInput() with { Driver = HostDriver.Libvirt, Uri = "qemu:///system", DomainType = "kvm" }, Ct));

        Assert.Equal("demo has 1 VM(s) placed on it; its driver cannot change until they are gone.", refused.For(nameof(HostInput.Driver)));
        Assert.Equal(HostDriver.Simulated, (await DemoAsync()).Driver);
    }

    public static TheoryData<string> Operations => ["list", "add", "update", "test", "test-draft", "maintenance", "remove"];

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Only_admins_manage_hosts_and_a_refusal_is_audited_and_changes_nothing(string operation)
    {
        var demo = await DemoAsync();
        var approver = scenario.Approver;
        Func<Task> act = operation switch
        {
            "list" => () => Hosts.ListAsync(approver, Ct),
            "add" => () => Hosts.AddAsync(approver, Simulated("rack-2"), Ct),
            "update" => () => Hosts.UpdateAsync(approver, demo.Id, demo.ToInput() with { CpuOvercommit = 1 }, Ct),
            "test" => () => Hosts.TestAsync(approver, demo.Id, Ct),
            "test-draft" => () => Hosts.TestDraftAsync(approver, Simulated("rack-2"), Ct),
            "maintenance" => () => Hosts.SetMaintenanceAsync(approver, demo.Id, true, Ct),
            _ => () => Hosts.RemoveAsync(approver, demo.Id, Ct),
        };

        await Assert.ThrowsAsync<PortalAccessDeniedException>(act);

        var denied = Assert.Single(await host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal((approver.UserId, "hosts"), (denied.ActorId, denied.Target));
        Assert.Equal(demo, await DemoAsync());
        await AssertOnlyDemoAsync();
    }

    [Fact]
    public async Task A_host_that_has_gone_is_reported_as_not_found()
    {
        await Assert.ThrowsAsync<PortalNotFoundException>(() => Hosts.TestAsync(admin, Guid.NewGuid(), Ct));
    }

    private static HostInput Simulated(string name, double cpu = 4, double ram = 1) =>
        new(name, HostDriver.Simulated, $"simulated://{name}", "", cpu, ram);

    private async Task<HostView> DemoAsync() => (await Hosts.ListAsync(admin, Ct)).Single(h => h.Name.StartsWith("demo", StringComparison.Ordinal));

    private async Task<Host> HostRowAsync(string name)
    {
        await using var db = host.NewDb();
        return await db.Hosts.AsNoTracking().SingleAsync(h => h.Name == name, Ct);
    }

    private async Task AssertOnlyDemoAsync()
    {
        await using var db = host.NewDb();
        Assert.Equal(["demo"], await db.Hosts.Select(h => h.Name).ToListAsync(Ct));
    }

    private ChannelReader<T> Follow<T>()
        where T : LiveMessage
    {
        var channel = Channel.CreateUnbounded<T>();
        subscriptions.Add(host.Services.GetRequiredService<LiveUpdates>().Subscribe(m => m is T t ? channel.Writer.WriteAsync(t, Ct).AsTask() : Task.CompletedTask));
        return channel.Reader;
    }

    private static async Task<T> NextAsync<T>(ChannelReader<T> reader) => await reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
}
