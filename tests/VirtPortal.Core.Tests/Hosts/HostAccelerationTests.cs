using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Reconciliation;

namespace VirtPortal.Core.Tests.Hosts;

/// <summary>
/// Whether a libvirt host runs KVM guests decides its domain type unless an admin or the configuration
/// sets one, and a host set to kvm where KVM cannot run guests is saved with a warning.
/// </summary>
public sealed class HostAccelerationTests : IAsyncDisposable
{
    private const string Local = "qemu:///system";
    private const string NoKvm = "qemu+ssh://root@pvm-1/system";
    private const string RealKvm = "qemu+ssh://root@kvm-1/system";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private PortalTestHost? host;
    private FakeLibvirtFactory factory = default!;

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
    }

    [Fact]
    public async Task The_first_run_registers_the_local_host_with_qemu_where_kvm_cannot_run_guests_and_records_why()
    {
        await StartAsync(f => f.WithoutKvm(Local), new() { ["Hosts:FirstRun"] = "libvirt" });

        var local = await HostAsync("local");

        Assert.Equal(("qemu", true, false, FakeLibvirtFactory.NoVmxReason), (local.DomainType, local.DomainTypeFromCapabilities, local.KvmAvailable, local.AccelerationReason));
        var registered = Assert.Single(await host!.AuditAsync(AuditActions.HostRegistered));
        Assert.Contains($"(auto: qemu)", registered.Details, StringComparison.Ordinal);
        Assert.Contains($"software emulation (slower): {FakeLibvirtFactory.NoVmxReason}", registered.Details, StringComparison.Ordinal);
        // The adapter that creates VMs was made for qemu, not for the provisional probe.
        Assert.Equal((Local, "qemu"), Adapter(local));
    }

    [Fact]
    public async Task The_first_run_registers_the_local_host_with_kvm_where_kvm_runs_guests()
    {
        await StartAsync(f => f.WithKvm(Local), new() { ["Hosts:FirstRun"] = "libvirt" });

        var local = await HostAsync("local");

        Assert.Equal(("kvm", true), (local.DomainType, local.KvmAvailable));
        Assert.Equal((Local, "kvm"), Adapter(local));
        Assert.Contains("KVM available: vmx present and kvm offered", Assert.Single(await host!.AuditAsync(AuditActions.HostRegistered)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_explicit_local_domain_type_overrides_the_capabilities_and_kvm_without_kvm_is_audited_as_a_warning()
    {
        await StartAsync(f => f.WithoutKvm(Local), new() { ["Hosts:FirstRun"] = "libvirt", ["Hosts:LocalDomainType"] = "KVM" });

        var local = await HostAsync("local");

        Assert.Equal(("kvm", false, false), (local.DomainType, local.DomainTypeFromCapabilities, local.KvmAvailable));
        Assert.Contains($"warning: KVM cannot run guests on local ({FakeLibvirtFactory.NoVmxReason})",
            Assert.Single(await host!.AuditAsync(AuditActions.HostRegistered)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_listed_host_without_a_domain_type_follows_its_capabilities_and_one_with_a_domain_type_keeps_it()
    {
        await StartAsync(f => f.WithoutKvm(NoKvm).WithKvm(RealKvm), new()
        {
            ["Hosts:List:0:Name"] = "pvm-1",
            ["Hosts:List:0:Uri"] = NoKvm,
            ["Hosts:List:1:Name"] = "kvm-1",
            ["Hosts:List:1:Uri"] = RealKvm,
            ["Hosts:List:2:Name"] = "pvm-2",
            ["Hosts:List:2:Uri"] = NoKvm + "?x=2",
            ["Hosts:List:2:DomainType"] = "kvm",
        });

        Assert.Equal("qemu", (await HostAsync("pvm-1")).DomainType);
        Assert.Equal("kvm", (await HostAsync("kvm-1")).DomainType);
        var forced = await HostAsync("pvm-2");
        Assert.Equal(("kvm", false), (forced.DomainType, forced.DomainTypeFromCapabilities));
    }

    [Fact]
    public async Task A_host_that_did_not_answer_at_registration_runs_qemu_until_the_reconciler_reads_its_capabilities()
    {
        await StartAsync(f => f.WithKvm(RealKvm).Unreachable(RealKvm, "Cannot connect to kvm-1: No route to host"), new()
        {
            ["Hosts:List:0:Name"] = "kvm-1",
            ["Hosts:List:0:Uri"] = RealKvm,
        });
        var before = await HostAsync("kvm-1");
        Assert.Equal((HostState.Unreachable, "qemu", null), (before.State, before.DomainType, before.KvmAvailable));

        factory.Answer(RealKvm);
        await host!.Services.GetRequiredService<Reconciler>().RunAsync(Ct);

        var after = await HostAsync("kvm-1");
        Assert.Equal((HostState.Online, 32, "kvm", true), (after.State, after.Cpus, after.DomainType, after.KvmAvailable));
        Assert.Equal((RealKvm, "kvm"), Adapter(after));
    }

    [Fact]
    public async Task Adding_a_kvm_host_where_kvm_cannot_run_guests_saves_it_with_a_warning_naming_the_reason_and_audits_it()
    {
        await StartAsync(f => f.WithoutKvm(NoKvm));

        var added = await Hosts.AddAsync(await host!.AdminAsync(), new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "kvm", 4, 1), Ct);

        Assert.Equal((HostState.Online, "kvm", "software emulation (slower)"), (added.State, added.DomainType, added.AccelerationLabel));
        Assert.Equal(
            $"KVM cannot run guests on pvm-1 ({FakeLibvirtFactory.NoVmxReason}): a kvm guest there starts but never boots. Choose qemu (software emulation) or auto.",
            added.Warning);
        Assert.Contains($"warning: {added.Warning}", (await host.AuditAsync(AuditActions.HostRegistered)).Single(e => e.Target == "host pvm-1").Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_with_auto_or_qemu_where_kvm_cannot_run_guests_warns_of_nothing()
    {
        await StartAsync(f => f.WithoutKvm(NoKvm).WithoutKvm(NoKvm + "?2"));
        var admin = await host!.AdminAsync();

        var auto = await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "auto", 4, 1), Ct);
        var qemu = await Hosts.AddAsync(admin, new HostInput("pvm-2", HostDriver.Libvirt, NoKvm + "?2", "qemu", 4, 1), Ct);

        Assert.Equal(("qemu", null), (auto.DomainType, auto.Warning));
        Assert.Equal("auto", auto.ToInput().DomainType);
        Assert.Equal(("qemu", null), (qemu.DomainType, qemu.Warning));
    }

    [Fact]
    public async Task Changing_an_auto_host_to_kvm_warns_and_changing_it_back_to_auto_takes_qemu_again_with_a_new_adapter()
    {
        await StartAsync(f => f.WithoutKvm(NoKvm));
        var admin = await host!.AdminAsync();
        var added = await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "auto", 4, 1), Ct);

        var forced = await Hosts.UpdateAsync(admin, added.Id, added.ToInput() with { DomainType = "kvm" }, Ct);
        Assert.Equal(("kvm", false), (forced.DomainType, forced.DomainTypeFromCapabilities));
        Assert.NotNull(forced.Warning);
        Assert.Equal((NoKvm, "kvm"), Adapter(await HostAsync("pvm-1")));

        var back = await Hosts.UpdateAsync(admin, added.Id, forced.ToInput() with { DomainType = "auto" }, Ct);
        Assert.Equal(("qemu", true, null), (back.DomainType, back.DomainTypeFromCapabilities, back.Warning));
        Assert.Equal((NoKvm, "qemu"), Adapter(await HostAsync("pvm-1")));
    }

    [Fact]
    public async Task A_connection_test_reports_whether_kvm_runs_guests_and_warns_of_kvm_without_it()
    {
        await StartAsync(f => f.WithoutKvm(NoKvm));
        var admin = await host!.AdminAsync();
        var added = await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "kvm", 4, 1), Ct);

        var test = await Hosts.TestAsync(admin, added.Id, Ct);
        var draft = await Hosts.TestDraftAsync(admin, new HostInput("pvm-2", HostDriver.Libvirt, NoKvm, "kvm", 4, 1), Ct);
        var draftAuto = await Hosts.TestDraftAsync(admin, new HostInput("pvm-2", HostDriver.Libvirt, NoKvm, "auto", 4, 1), Ct);

        Assert.Equal((false, FakeLibvirtFactory.NoVmxReason), (test.Facts!.KvmAvailable, test.Facts.AccelerationReason));
        Assert.StartsWith("KVM cannot run guests on pvm-1", test.Warning, StringComparison.Ordinal);
        Assert.StartsWith("KVM cannot run guests on pvm-2", draft.Warning, StringComparison.Ordinal);
        Assert.Null(draftAuto.Warning);
        Assert.All(await host.AuditAsync(AuditActions.HostTested), e => Assert.Contains($"no KVM: {FakeLibvirtFactory.NoVmxReason}", e.Details, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_host_whose_capabilities_cannot_be_read_stays_unreachable_and_the_connection_test_says_so()
    {
        const string Error = "The host's capabilities could not be read: the XML's root is <html>, not <capabilities>";
        await StartAsync(f => f.Unreachable(NoKvm, Error));
        var admin = await host!.AdminAsync();
        var added = await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "auto", 4, 1), Ct);

        var test = await Hosts.TestAsync(admin, added.Id, Ct);

        Assert.Equal((false, Error), (test.Succeeded, test.Error));
        var row = await HostAsync("pvm-1");
        Assert.Equal((HostState.Unreachable, Error, null, "qemu"), (row.State, row.LastError, row.KvmAvailable, row.DomainType));
    }

    [Theory]
    [InlineData("Hosts:LocalDomainType", "xen", "Hosts:LocalDomainType: Choose the domain type: auto (from the host's capabilities), kvm (hardware virtualization) or qemu (emulation, where KVM cannot run guests), not 'xen'.")]
    [InlineData("Hosts:List:0:DomainType", "kvmm", "Hosts:List:0:DomainType: Choose the domain type: auto (from the host's capabilities), kvm (hardware virtualization) or qemu (emulation, where KVM cannot run guests), not 'kvmm'.")]
    public async Task An_unknown_domain_type_in_configuration_stops_start_up_naming_the_key(string key, string value, string message)
    {
        await StartAsync(_ => { }, new()
        {
            ["Hosts:List:0:Name"] = "kvm-1",
            ["Hosts:List:0:Uri"] = RealKvm,
            [key] = value,
        }, initialize: false);

        var failure = Assert.Throws<OptionsValidationException>(() => host!.Services.GetRequiredService<IOptions<HostOptions>>().Value);

        Assert.Equal([message], failure.Failures);
    }

    private HostService Hosts => host!.Services.GetRequiredService<HostService>();

    private async Task StartAsync(Action<FakeLibvirtFactory> arrange, Dictionary<string, string?>? settings = null, bool initialize = true)
    {
        host = await PortalTestHost.StartAsync(settings, initialize: false, services: s => s.AddSingleton<IHypervisorFactory>(sp =>
        {
            factory = new FakeLibvirtFactory(sp.GetRequiredService<TimeProvider>());
            arrange(factory);
            return factory;
        }));
        if (initialize)
            await host.InitializeAsync();
    }

    private async Task<Host> HostAsync(string name)
    {
        await using var db = host!.NewDb();
        return await db.Hosts.AsNoTracking().SingleAsync(h => h.Name == name, Ct);
    }

    /// <summary>The URI and domain type of the adapter the portal uses for <paramref name="row"/> now.</summary>
    private (string Uri, string DomainType) Adapter(Host row)
    {
        host!.Services.GetRequiredService<HypervisorRegistry>().For(row);
        return factory.Created[^1];
    }
}
