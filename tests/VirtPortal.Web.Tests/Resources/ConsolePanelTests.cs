using System.Security.Claims;
using System.Text.Json;
using Bunit;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Access;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;
using VirtPortal.Libvirt;
using VirtPortal.Web.Components.Pages.Resources;
using VirtPortal.Web.Console;
using VirtPortal.Web.Security;
using VirtPortal.Web.Tests.Console;

namespace VirtPortal.Web.Tests.Resources;

/// <summary>
/// The console panel as each role sees it, with the real ticket service: on the simulated host it says
/// there is no console; on a libvirt host (the test driver, whose domain names a VNC port) it hands
/// js/console.js a ticket the proxy would take, full control for members and view only for helpdesk.
/// </summary>
public sealed class ConsolePanelTests() : PortalCoreComponentTest(demo: true, services: AddConsole)
{
    private const string Member = "member@demo.virtportal.local";
    private const string Helpdesk = "helpdesk@demo.virtportal.local";

    private readonly TempDirectory directory = new();
    private BunitJSModuleInterop module = default!;
    private Guid demoVmId;
    private Guid vncVmId;
    private Guid globexVmId;

    /// <summary>What the panel needs besides Core: the libvirt adapter for the test-driver host, the ticket service and the sessions it counts.</summary>
    internal static void AddConsole(IServiceCollection services)
    {
        services.AddPortalLibvirt(new ConfigurationBuilder().Build());
        services.AddSingleton<ConsoleLocator>();
        services.AddSingleton<ConsoleTickets>();
        services.AddSingleton<ConsoleSessions>();
    }

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        module = JSInterop.SetupModule(ConsolePanel.ModulePath);
        module.Mode = JSRuntimeMode.Strict;
        module.SetupModule("start", _ => true);
        module.SetupVoid("reconnect", _ => true).SetVoidResult();
        module.SetupVoid("stop", _ => true).SetVoidResult();
        module.SetupVoid("ctrlAltDel", _ => true).SetVoidResult();
        module.Setup<bool>("fullscreen", _ => true).SetResult(true);
        module.Setup<int>("typeText", _ => true).SetResult(3);

        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var demo = await db.Hosts.AsNoTracking().SingleAsync(Ct);
        var acme = await db.Tenants.Where(t => t.Name == DemoAccounts.AcmeTenant).Select(t => t.Id).SingleAsync(Ct);
        var globex = await db.Tenants.Where(t => t.Name == DemoAccounts.GlobexTenant).Select(t => t.Id).SingleAsync(Ct);

        vncVmId = Guid.NewGuid();
        var uri = await VncTestNode.WriteAsync(directory.File("vnc-node.xml"), [(vncVmId, 5999)], Ct);
        var libvirt = new Host
        {
            Id = Guid.CreateVersion7(now), Name = "kvm-test", Driver = HostDriver.Libvirt, Uri = uri, DomainType = "test",
            State = HostState.Online, Cpus = 4, MemoryMiB = 8192, StorageGiB = 100, CreatedAt = now, LastSeenAt = now,
        };
        db.Hosts.Add(libvirt);
        var demoVm = Vm(Guid.CreateVersion7(now), acme, "demo-box", demo.Id, now);
        var vncVm = Vm(vncVmId, acme, "vnc-box", libvirt.Id, now);
        var globexVm = Vm(Guid.CreateVersion7(now), globex, "globex-box", libvirt.Id, now);
        db.Resources.AddRange(demoVm, vncVm, globexVm);
        await db.SaveChangesAsync(Ct);
        // The simulated host runs the demo VM as the worker would have it (its console question needs the domain).
        await Services.GetRequiredService<HypervisorRegistry>().For(demo).CreateAsync(new DomainSpec(demoVm.Id, demoVm.Name, 1, 128, 1, "debian-12-base"), Ct);
        demoVmId = demoVm.Id;
        globexVmId = globexVm.Id;
    }

    [Fact]
    public async Task On_the_simulated_host_the_panel_says_it_has_no_console_and_starts_nothing()
    {
        await SignInAsync(Member);
        var panel = await RenderPanelAsync(demoVmId);

        await panel.Find("[data-testid=console-open]").ClickAsync(new());

        panel.WaitForAssertion(() => Assert.Equal("This VM runs on the simulated host \"demo\", which has no console.",
            panel.Find("[data-testid=console-unavailable]").TextContent.Trim()));
        Assert.Empty(panel.FindAll("[data-testid=console-screen]"));
        Assert.NotNull(panel.Find("[data-testid=console-reconnect]"));
        module.VerifyNotInvoke("start");
    }

    [Fact]
    public async Task A_member_gets_full_control_and_the_module_starts_on_the_screen_with_the_offers_own_ticket()
    {
        var user = await SignInAsync(Member);
        var panel = await RenderPanelAsync(vncVmId);

        await panel.Find("[data-testid=console-open]").ClickAsync(new());

        panel.WaitForAssertion(() => module.VerifyInvoke("start"));
        var start = module.VerifyInvoke("start");
        start.Arguments[0].ShouldBeElementReferenceTo(panel.Find("[data-testid=console-screen]"));
        var options = JsonSerializer.SerializeToElement(start.Arguments[1]);
        Assert.Equal($"/console/{vncVmId}", options.GetProperty("path").GetString());
        Assert.False(options.GetProperty("viewOnly").GetBoolean());
        // The ticket the page hands to the browser is one the proxy takes, for this user and VM, once.
        var tickets = Services.GetRequiredService<ConsoleTickets>();
        var (redeemed, _) = tickets.Redeem(options.GetProperty("ticket").GetString(), user, vncVmId);
        Assert.NotNull(redeemed);
        Assert.False(redeemed.ViewOnly);
        Assert.IsType<Microsoft.JSInterop.DotNetObjectReference<ConsolePanel>>(start.Arguments[2]);
        Assert.NotNull(panel.Find("[data-testid=console-ctrl-alt-del]"));
        Assert.NotNull(panel.Find("[data-testid=console-type-text]"));
        Assert.Empty(panel.FindAll("[data-testid=console-view-only]"));
        Assert.Equal("connecting", panel.Find("[data-testid=console-state]").GetAttribute("data-state"));
    }

    [Fact]
    public async Task Helpdesk_watches_view_only_with_no_ctrl_alt_del_and_no_typing()
    {
        await SignInAsync(Helpdesk, GlobalRoles.Helpdesk);
        var panel = await RenderPanelAsync(vncVmId);

        await panel.Find("[data-testid=console-open]").ClickAsync(new());
        panel.WaitForAssertion(() => module.VerifyInvoke("start"));
        var start = module.VerifyInvoke("start");
        await panel.InvokeAsync(() => panel.Instance.OnConsoleState(ConsolePanel.Connected, null));

        Assert.True(JsonSerializer.SerializeToElement(start.Arguments[1]).GetProperty("viewOnly").GetBoolean());
        Assert.Equal("View only", panel.Find("[data-testid=console-view-only]").TextContent.Trim());
        Assert.Equal("connected", panel.Find("[data-testid=console-state]").GetAttribute("data-state"));
        Assert.Empty(panel.FindAll("[data-testid=console-ctrl-alt-del]"));
        Assert.Empty(panel.FindAll("[data-testid=console-type-text]"));
        Assert.Empty(panel.FindAll("[data-testid=console-type-text-input]"));
        Assert.NotNull(panel.Find("[data-testid=console-fullscreen]"));
    }

    [Fact]
    public async Task A_text_over_the_limit_is_refused_with_a_message_and_one_at_the_limit_is_typed()
    {
        await SignInAsync(Member);
        var panel = await OpenConnectedAsync(vncVmId);
        panel.Find("[data-testid=console-type-text]").Click();

        panel.Find("[data-testid=console-type-text-input]").Input(new string('x', ConsolePanel.TypeTextLimit + 1));

        Assert.Contains("At most 1,000 characters at a time: this text has 1,001.", panel.Markup, StringComparison.Ordinal);
        Assert.True(panel.Find("[data-testid=console-type-text-send]").HasAttribute("disabled"));
        module.VerifyNotInvoke("typeText");

        var text = new string('y', ConsolePanel.TypeTextLimit - 1) + "\n";
        panel.Find("[data-testid=console-type-text-input]").Input(text);
        Assert.DoesNotContain("At most", panel.Markup, StringComparison.Ordinal);
        await panel.Find("[data-testid=console-type-text-send]").ClickAsync(new());

        var typed = module.VerifyInvoke("typeText");
        Assert.Equal(text, typed.Arguments[1]);
        Assert.NotNull(panel.Find("[data-testid=console-type-text-sending]"));
        await panel.InvokeAsync(() => panel.Instance.OnTyped(ConsolePanel.TypeTextLimit, ConsolePanel.TypeTextLimit));
        Assert.Equal("Typed 1,000 characters.", panel.Find("[data-testid=console-type-text-result]").TextContent.Trim());
    }

    [Fact]
    public async Task Characters_a_US_keyboard_does_not_have_are_named_before_typing()
    {
        await SignInAsync(Member);
        var panel = await OpenConnectedAsync(vncVmId);
        panel.Find("[data-testid=console-type-text]").Click();

        panel.Find("[data-testid=console-type-text-input]").Input("ls -l\ncafé");

        Assert.Equal("é: characters a US keyboard does not have may not arrive.", panel.Find("[data-testid=console-type-text-warning]").TextContent.Trim());
        Assert.False(panel.Find("[data-testid=console-type-text-send]").HasAttribute("disabled"));
        panel.Find("[data-testid=console-type-text-input]").Input("ls -l\n\tcd /");
        Assert.Empty(panel.FindAll("[data-testid=console-type-text-warning]"));
    }

    [Fact]
    public async Task Ctrl_alt_del_goes_to_the_module_and_reconnecting_takes_a_fresh_ticket()
    {
        await SignInAsync(Member);
        var panel = await OpenConnectedAsync(vncVmId);
        var first = JsonSerializer.SerializeToElement(module.VerifyInvoke("start").Arguments[1]).GetProperty("ticket").GetString();

        await panel.Find("[data-testid=console-ctrl-alt-del]").ClickAsync(new());
        module.VerifyInvoke("ctrlAltDel");
        await panel.InvokeAsync(() => panel.Instance.OnConsoleState(ConsolePanel.Disconnected, "Closed after 15 minutes without input."));
        Assert.Equal("disconnected", panel.Find("[data-testid=console-state]").GetAttribute("data-state"));
        Assert.Equal("Closed after 15 minutes without input.", panel.Find("[data-testid=console-state-reason]").TextContent.Trim());
        Assert.True(panel.Find("[data-testid=console-ctrl-alt-del]").HasAttribute("disabled"));

        await panel.Find("[data-testid=console-reconnect]").ClickAsync(new());

        panel.WaitForAssertion(() => module.VerifyInvoke("reconnect"));
        var reconnect = module.VerifyInvoke("reconnect");
        var second = JsonSerializer.SerializeToElement(reconnect.Arguments[1]).GetProperty("ticket").GetString();
        Assert.False(string.IsNullOrEmpty(second));
        Assert.NotEqual(first, second);
        Assert.Equal("connecting", panel.Find("[data-testid=console-state]").GetAttribute("data-state"));
        module.VerifyInvoke("start", calledTimes: 1);
    }

    [Fact]
    public async Task The_server_refuses_a_console_the_viewer_may_not_see_even_when_the_page_offers_the_button()
    {
        await SignInAsync(Member);
        // Capabilities claiming more than the server grants: the ticket service asks the access service itself.
        var panel = Render<ConsolePanel>(p => p.Add(x => x.ResourceId, globexVmId).Add(x => x.Can, Granting(Permission.ResourceConsole)));

        await panel.Find("[data-testid=console-open]").ClickAsync(new());

        panel.WaitForAssertion(() => Assert.NotNull(panel.Find("[data-testid=console-denied]")));
        module.VerifyNotInvoke("start");
    }

    [Fact]
    public async Task A_viewer_without_console_permission_gets_no_console_and_a_member_finds_it_on_the_vm_page()
    {
        await SignInAsync(Member);

        var without = Render<ConsolePanel>(p => p.Add(x => x.ResourceId, vncVmId).Add(x => x.Can, Granting(Permission.ResourceView)));
        var page = Render<VmPage>(p => p.Add(x => x.VmId, vncVmId));

        Assert.Empty(without.FindAll("[data-testid=console]"));
        page.WaitForAssertion(() => Assert.Equal("Open console", page.Find("[data-testid=console-open]").TextContent.Trim()));
    }

    [Fact]
    public async Task Closing_the_panel_and_leaving_the_page_stop_the_console()
    {
        await SignInAsync(Member);
        var panel = await OpenConnectedAsync(vncVmId);

        await panel.Find("[data-testid=console-close]").ClickAsync(new());

        module.VerifyInvoke("stop");
        Assert.Empty(panel.FindAll("[data-testid=console-screen]"));
        Assert.NotNull(panel.Find("[data-testid=console-open]"));

        await panel.Find("[data-testid=console-open]").ClickAsync(new());
        panel.WaitForAssertion(() => module.VerifyInvoke("start", calledTimes: 2));
        await DisposeComponentsAsync();
        module.VerifyInvoke("stop", calledTimes: 2);
    }

    private async Task<IRenderedComponent<ConsolePanel>> OpenConnectedAsync(Guid id)
    {
        var panel = await RenderPanelAsync(id);
        await panel.Find("[data-testid=console-open]").ClickAsync(new());
        panel.WaitForAssertion(() => module.VerifyInvoke("start"));
        await panel.InvokeAsync(() => panel.Instance.OnConsoleState(ConsolePanel.Connected, null));
        return panel;
    }

    private async Task<IRenderedComponent<ConsolePanel>> RenderPanelAsync(Guid id)
    {
        var actor = ActorAccessor.FromPrincipal(await PrincipalAsync())!;
        var can = await Services.GetRequiredService<PortalAccess>().CapabilitiesAsync(actor, AccessTarget.Resource(id), Ct);
        return Render<ConsolePanel>(p => p.Add(x => x.ResourceId, id).Add(x => x.Can, can));
    }

    private static Capabilities Granting(Permission permission) =>
        new(AccessTarget.Portal, new Dictionary<Permission, AccessDecision> { [permission] = AccessDecision.Allow });

    private async Task<ClaimsPrincipal> PrincipalAsync() =>
        (await Services.GetRequiredService<AuthenticationStateProvider>().GetAuthenticationStateAsync()).User;

    /// <summary>Signs in with the claims the portal's cookie carries, its sign-in session among them (tickets are bound to it).</summary>
    private async Task<ClaimsPrincipal> SignInAsync(string email, params string[] roles)
    {
        await using (var scope = Services.CreateAsyncScope())
        {
            var user = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(email)
                ?? throw new InvalidOperationException(email + " is not seeded");
            Authorization.SetAuthorized(email);
            Authorization.SetRoles(roles);
            Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id), new Claim(PortalClaimsPrincipalFactory.SessionClaim, Guid.NewGuid().ToString("N")));
        }

        return await PrincipalAsync();
    }

    private static Resource Vm(Guid id, Guid tenantId, string name, Guid hostId, DateTimeOffset now) => new()
    {
        Id = id, TenantId = tenantId, Name = name, Kind = ResourceKind.Vm, State = ResourceState.Running,
        VCpus = 1, RamMiB = 128, DiskGiB = 1, CreatedAt = now, LeaseEndsAt = now.AddDays(30), HostId = hostId, Version = 1,
    };

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        directory.Dispose();
    }
}
