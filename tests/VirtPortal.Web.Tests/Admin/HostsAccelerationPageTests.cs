using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Provisioning.Simulated;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Admin;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>
/// The hosts page says per libvirt host whether KVM runs guests there, and warns of kvm where it cannot.
/// A class of its own: with a libvirt adapter present the form offers libvirt first, unlike in
/// <see cref="HostsPageTests"/>.
/// </summary>
public sealed class HostsAccelerationPageTests : PortalCoreComponentTest
{
    private const string NoKvm = "qemu+ssh://root@pvm-1/system";
    private const string RealKvm = "qemu+ssh://root@kvm-1/system";
    private const string NoVmx = "CPU has no vmx/svm flag, though libvirt offers the kvm domain type";

    private Actor admin = default!;

    public HostsAccelerationPageTests()
        : base(services: s => s.AddSingleton<IHypervisorFactory, FakeLibvirt>())
    {
    }

    private HostService Hosts => Services.GetRequiredService<HostService>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(AdminEmail);
        admin = new Actor(user!.Id, AdminEmail, new HashSet<string> { GlobalRoles.Admin });
        SignIn(user.Id, AdminEmail, GlobalRoles.Admin);
    }

    [Fact]
    public async Task A_host_whose_cpu_has_no_vmx_shows_software_emulation_with_the_reason_and_a_kvm_host_shows_kvm_available()
    {
        await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "auto", 4, 1), Ct);
        await Hosts.AddAsync(admin, new HostInput("kvm-1", HostDriver.Libvirt, RealKvm, "auto", 4, 1), Ct);

        var page = Render<HostList>();

        page.WaitForAssertion(() => Assert.Equal($"software emulation (slower) · {NoVmx}", Text(page, "host-pvm-1-acceleration")));
        Assert.Equal("KVM available · vmx present and kvm offered", Text(page, "host-kvm-1-acceleration"));
        Assert.Contains("libvirt, qemu (auto)", page.Find("[data-testid=host-pvm-1]").TextContent, StringComparison.Ordinal);
        Assert.Contains("libvirt, kvm (auto)", page.Find("[data-testid=host-kvm-1]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=host-pvm-1-warning]"));
        // Simulated hosts use no domain type: nothing to say about KVM.
        Assert.Empty(page.FindAll("[data-testid=host-demo-acceleration]"));
    }

    [Fact]
    public async Task A_host_set_to_kvm_where_kvm_cannot_run_guests_carries_the_warning_on_its_row()
    {
        await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "kvm", 4, 1), Ct);

        var page = Render<HostList>();

        page.WaitForAssertion(() => Assert.StartsWith($"KVM cannot run guests on pvm-1 ({NoVmx})", Text(page, "host-pvm-1-warning"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Testing_a_new_host_shows_whether_kvm_runs_guests_there_and_auto_warns_of_nothing()
    {
        var form = Render<HostForm>();

        form.Find("[data-testid=host-form-name]").Input("pvm-2");
        form.Find("[data-testid=host-form-uri]").Input(NoKvm);
        await form.Find("[data-testid=host-form-test]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.EndsWith(
            $"simulated 1.0. Software emulation (slower): {NoVmx}.", form.Find("[data-testid=host-form-test-result]").TextContent.Trim(), StringComparison.Ordinal));
        Assert.Empty(form.FindAll("[data-testid=host-form-warning]"));
    }

    [Fact]
    public async Task Testing_and_saving_kvm_where_kvm_cannot_run_guests_shows_the_warning_with_the_reason()
    {
        var snackbars = Render<MudSnackbarProvider>();
        var existing = await Hosts.AddAsync(admin, new HostInput("pvm-1", HostDriver.Libvirt, NoKvm, "kvm", 4, 1), Ct);
        var saved = false;
        var form = Render<HostForm>(p => p.Add(x => x.Existing, existing).Add(x => x.OnSaved, _ => saved = true));

        await form.Find("[data-testid=host-form-test]").ClickAsync(new());
        form.WaitForAssertion(() => Assert.StartsWith($"KVM cannot run guests on pvm-1 ({NoVmx})", Text(form, "host-form-warning"), StringComparison.Ordinal));
        form.Find("[data-testid=host-form-cpu-overcommit]").Input("2");
        await form.Find("[data-testid=host-form-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.True(saved));
        snackbars.WaitForAssertion(() => Assert.Contains($"KVM cannot run guests on pvm-1 ({NoVmx})", snackbars.Markup, StringComparison.Ordinal));
    }

    private static string Text<T>(IRenderedComponent<T> component, string testId)
        where T : Microsoft.AspNetCore.Components.IComponent =>
        string.Join(' ', component.Find($"[data-testid={testId}]").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>libvirt hosts as simulated ones that say what pvm-1 (kvm_pvm) and kvm-1 (vmx) would about KVM.</summary>
    private sealed class FakeLibvirt(TimeProvider time) : IHypervisorFactory
    {
        public HostDriver Driver => HostDriver.Libvirt;

        public IHypervisor Create(Host host) => host.Uri == NoKvm
            ? new SimulatedHypervisor(host.Name, null, time) { KvmAvailable = false, AccelerationReason = NoVmx }
            : new SimulatedHypervisor(host.Name, null, time) { KvmAvailable = true, AccelerationReason = "vmx present and kvm offered" };
    }
}
