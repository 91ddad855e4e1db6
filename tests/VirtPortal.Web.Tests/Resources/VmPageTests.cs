using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Live;
using VirtPortal.Core.Monitoring;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components;
using VirtPortal.Web.Components.Pages.Resources;
using VirtPortal.Web.Components.Pages.Tenants;

namespace VirtPortal.Web.Tests.Resources;

/// <summary>The VM page as each role sees it: details, the actions the server would accept, operations, audit and charts.</summary>
public sealed class VmPageTests() : PortalCoreComponentTest(demo: true, services: ConsolePanelTests.AddConsole)
{
    private const string Member = "member@demo.virtportal.local";
    private const string Owner = "owner@demo.virtportal.local";
    private const string Helpdesk = "helpdesk@demo.virtportal.local";
    private const string HostWords = "internal error: qemu unexpectedly closed the monitor";

    private Guid acmeTenantId;
    private Guid acmeVmId;
    private Guid globexVmId;
    private Guid failedOperationId;
    private BunitJSModuleInterop charts = default!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        charts = JSInterop.SetupModule(LiveCharts.ModulePath);
        charts.SetupModule("start", _ => true);

        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var host = await db.Hosts.AsNoTracking().SingleAsync(Ct);
        acmeTenantId = await db.Tenants.Where(t => t.Name == DemoAccounts.AcmeTenant).Select(t => t.Id).SingleAsync(Ct);
        var globex = await db.Tenants.Where(t => t.Name == DemoAccounts.GlobexTenant).Select(t => t.Id).SingleAsync(Ct);
        var acmeVm = Vm(acmeTenantId, "build-box", host.Id, now);
        var globexVm = Vm(globex, "globex-secret", host.Id, now);
        db.Resources.AddRange(acmeVm, globexVm);

        var failed = Operation.Queue(acmeVm, OperationKind.Reboot, "someone", now.AddMinutes(1));
        failed.State = OperationState.Failed;
        failed.FailureKind = FailureKind.HostRefused;
        failed.LastError = HostWords;
        failed.Attempts = 3;
        failed.FinishedAt = now.AddMinutes(2);
        failedOperationId = failed.Id;
        db.Operations.Add(failed);
        db.AuditEntries.Add(new AuditEntry { At = now.AddMinutes(1), ActorId = "someone", ActorName = "Mia Member", Action = AuditActions.ResourceAction(OperationKind.Reboot), TenantId = acmeTenantId, Target = "Vm build-box", Details = "operation" });
        db.AuditEntries.Add(new AuditEntry { At = now.AddMinutes(1), ActorId = "someone", ActorName = "Mia Member", Action = "tenant.renamed", TenantId = acmeTenantId, Target = "tenant Acme", Details = "not about the VM" });
        await db.SaveChangesAsync(Ct);
        acmeVmId = acmeVm.Id;
        globexVmId = globexVm.Id;
    }

    [Fact]
    public async Task A_member_sees_their_VMs_details_and_the_actions_its_state_offers()
    {
        await SignInAsync(Member);

        var page = RenderVm(acmeVmId);

        page.WaitForAssertion(() => Assert.Equal("build-box", page.Find("[data-testid=vm-title]").TextContent.Trim()));
        Assert.Equal("Running", page.Find("[data-testid=vm-state]").GetAttribute("data-state"));
        Assert.Equal("demo", page.Find("[data-testid=vm-host]").TextContent.Trim());
        Assert.Equal("2 vCPU · 2048 MiB · 20 GiB", page.Find("[data-testid=vm-size]").TextContent.Trim());
        Assert.NotEmpty(page.Find("[data-testid=vm-lease]").TextContent.Trim());
        var actions = page.Find("[data-testid=vm-actions]");
        foreach (var action in new[] { "shutdown", "forceoff", "reboot", "suspend", "delete", "resize" })
            Assert.NotNull(actions.QuerySelector($"[data-testid=vm-build-box-{action}]"));
        Assert.Null(actions.QuerySelector("[data-testid=vm-build-box-start]"));
        Assert.NotNull(actions.QuerySelector("[data-testid=resource-extend-build-box]"));

        // The failed operation reads as the plain sentence; the host's words are for those who read the whole audit log.
        Assert.Equal("Reboot", page.Find($"[data-testid=vm-operation-{failedOperationId}]").TextContent.Trim());
        Assert.Equal("The host refused to reboot the VM; an administrator has been told.", page.Find($"[data-testid=vm-operation-error-{failedOperationId}]").TextContent.Trim());
        Assert.DoesNotContain(HostWords, page.Markup, StringComparison.Ordinal);
        // A member does not read the tenant's audit log, so the page has none to show.
        Assert.Empty(page.FindAll("[data-testid=vm-audit]"));
    }

    [Fact]
    public async Task The_charts_start_with_the_VMs_id()
    {
        await SignInAsync(Member);

        var page = RenderVm(acmeVmId);

        page.WaitForAssertion(() => Assert.Equal(acmeVmId, charts.VerifyInvoke("start").Arguments[1]));
    }

    [Fact]
    public async Task Another_tenants_member_is_refused_exactly_as_for_a_VM_that_does_not_exist()
    {
        var member = await SignInAsync(Member);

        var forbidden = RenderVm(globexVmId);
        var unknown = RenderVm(Guid.CreateVersion7());

        forbidden.WaitForAssertion(() => Assert.NotNull(forbidden.Find("[data-testid=forbidden]")));
        unknown.WaitForAssertion(() => Assert.NotNull(unknown.Find("[data-testid=forbidden]")));
        Assert.Equal(unknown.Find("[data-testid=forbidden]").TextContent, forbidden.Find("[data-testid=forbidden]").TextContent);
        Assert.DoesNotContain("globex-secret", forbidden.Markup, StringComparison.Ordinal);
        Assert.Empty(forbidden.FindAll("[data-testid=live-charts]"));
        charts.VerifyNotInvoke("start");
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == AuditActions.AccessDenied && e.ActorId == member.UserId && e.Target == $"resource {globexVmId}", Ct));
    }

    [Fact]
    public async Task Helpdesk_sees_the_VM_its_audit_events_and_the_hosts_words_but_no_action_button()
    {
        await SignInAsync(Helpdesk, GlobalRoles.Helpdesk);

        var page = RenderVm(acmeVmId);

        page.WaitForAssertion(() => Assert.Equal("build-box", page.Find("[data-testid=vm-title]").TextContent.Trim()));
        Assert.Empty(page.Find("[data-testid=vm-actions]").QuerySelectorAll("button, a"));
        Assert.Equal(HostWords, page.Find($"[data-testid=vm-operation-host-words-{failedOperationId}]").TextContent.Trim());
        var audit = page.Find("[data-testid=vm-audit]");
        Assert.Contains("Vm build-box", audit.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("not about the VM", audit.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_owner_reads_the_VMs_audit_events()
    {
        await SignInAsync(Owner);

        var page = RenderVm(acmeVmId);

        page.WaitForAssertion(() => Assert.Contains("Vm build-box", page.Find("[data-testid=vm-audit]").TextContent, StringComparison.Ordinal));
        Assert.NotNull(page.Find("[data-testid=vm-build-box-shutdown]"));
    }

    [Fact]
    public async Task A_member_pauses_the_VM_from_its_page_and_the_operation_is_queued_and_listed()
    {
        await SignInAsync(Member);
        var page = RenderVm(acmeVmId);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=vm-build-box-suspend]")));

        await page.Find("[data-testid=vm-build-box-suspend]").ClickAsync(new());

        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var queued = await db.Operations.SingleAsync(o => o.ResourceId == acmeVmId && o.Kind == OperationKind.Suspend, Ct);
        Assert.Equal(OperationState.Pending, queued.State);
        page.WaitForAssertion(() => Assert.Equal(nameof(OperationState.Pending), page.Find($"[data-testid=vm-operation-state-{queued.Id}]").GetAttribute("data-state")));
        Assert.NotNull(page.Find("[data-testid=vm-pending]"));
    }

    [Fact]
    public async Task Only_this_VMs_changes_re_render_the_page_and_the_charts_never_re_render()
    {
        await SignInAsync(Member);
        // The page's own renders: MudBlazor parts inside it render again on their own schedule after a
        // change (their after-render work), so counting them as the page's would make this test depend on timing.
        var page = Render<CountingVmPage>(p => p.Add(x => x.VmId, acmeVmId));
        page.WaitForAssertion(() => Assert.Equal("Running", page.Find("[data-testid=vm-state]").GetAttribute("data-state")));
        var chartsComponent = page.FindComponent<LiveCharts>();
        var live = Services.GetRequiredService<LiveUpdates>();

        // One change of this VM is one render of the page...
        var before = page.Instance.Renders;
        await ChangeStateAsync(ResourceState.Paused);
        page.WaitForAssertion(() => Assert.Equal("Paused", page.Find("[data-testid=vm-state]").GetAttribute("data-state")));
        Assert.Equal(1, page.Instance.Renders - before);

        // ...and so it stays with this VM's figures and another VM's change published before the next one.
        before = page.Instance.Renders;
        var point = new MetricPoint(DateTimeOffset.UtcNow, 12.5, 512L << 20, 2048L << 20, 0, 0, 0, 0);
        for (var i = 0; i < 5; i++)
            live.Publish(new MetricsSampled(acmeTenantId, acmeVmId, point with { At = point.At.AddSeconds(i) }));
        live.Publish(new ResourceChanged(acmeTenantId, globexVmId, 1));
        await ChangeStateAsync(ResourceState.Shutoff);
        page.WaitForAssertion(() => Assert.Equal("Shutoff", page.Find("[data-testid=vm-state]").GetAttribute("data-state")));

        Assert.Equal(1, page.Instance.Renders - before);
        Assert.Equal(1, chartsComponent.RenderCount);
    }

    /// <summary>The VM page, counting how often it renders itself (not its children).</summary>
    private sealed class CountingVmPage : VmPage
    {
        private int renders;

        public int Renders => Volatile.Read(ref renders);

        protected override void BuildRenderTree(Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder builder)
        {
            Interlocked.Increment(ref renders);
            base.BuildRenderTree(builder);
        }
    }

    private async Task ChangeStateAsync(ResourceState state)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var vm = await db.Resources.SingleAsync(r => r.Id == acmeVmId, Ct);
        vm.State = state;
        vm.Version++;
        await db.SaveChangesAsync(Ct);
        Services.GetRequiredService<LiveUpdates>().Publish(new ResourceChanged(acmeTenantId, acmeVmId, vm.Version));
    }

    [Fact]
    public async Task The_tenant_page_links_each_VM_to_its_page()
    {
        await SignInAsync(Member);

        var page = Render<TenantPage>(p => p.Add(x => x.TenantId, acmeTenantId));

        page.WaitForAssertion(() => Assert.Equal(PortalRoutes.Vm(acmeVmId), page.Find("[data-testid=vm-build-box-link]").GetAttribute("href")));
    }

    private IRenderedComponent<VmPage> RenderVm(Guid id) => Render<VmPage>(p => p.Add(x => x.VmId, id));

    private static Resource Vm(Guid tenantId, string name, Guid hostId, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now), TenantId = tenantId, Name = name, Kind = ResourceKind.Vm, State = ResourceState.Running,
        VCpus = 2, RamMiB = 2048, DiskGiB = 20, CreatedAt = now, LeaseEndsAt = now.AddDays(30), HostId = hostId, Version = 1,
    };

    private async Task<Actor> SignInAsync(string email, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException(email + " is not seeded");
        SignIn(user.Id, email, roles);
        return new Actor(user.Id, email, (await users.GetRolesAsync(user)).ToHashSet());
    }
}
