using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core.Data;
using VirtPortal.Core.Hosts;
using VirtPortal.Core.Live;
using VirtPortal.Core.Resources;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Admin;

namespace VirtPortal.Web.Tests.Admin;

/// <summary>The hosts page and its form against the real host service, on the simulated host "demo" the first run registers.</summary>
public sealed class HostsPageTests : PortalCoreComponentTest
{
    private Actor admin = default!;

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
    public void Each_host_is_a_row_with_its_state_allocation_against_capacity_and_vm_count()
    {
        var page = Render<HostList>();

        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=host-demo-state]").TextContent.Trim()));
        Assert.Equal("simulated://demo", page.Find("[data-testid=host-demo-uri]").TextContent);
        Assert.Equal("0 vCPU / 128 vCPU", Caption(page, "host-demo-cpu"));
        Assert.Equal("0 MiB / 128 GiB", Caption(page, "host-demo-ram"));
        Assert.Equal("0 GiB / 2048 GiB", Caption(page, "host-demo-disk"));
        Assert.Equal("0", page.Find("[data-testid=host-demo-vms]").TextContent.Trim());
    }

    [Fact]
    public async Task A_change_made_elsewhere_shows_at_once_through_HostChanged()
    {
        var page = Render<HostList>();
        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=host-demo-state]").TextContent.Trim()));
        var demo = Assert.Single(await Hosts.ListAsync(admin, Ct));

        await Hosts.SetMaintenanceAsync(admin, demo.Id, maintenance: true, Ct);

        page.WaitForAssertion(() => Assert.Equal("Maintenance", page.Find("[data-testid=host-demo-state]").TextContent.Trim()));
        Assert.Equal("End maintenance", page.Find("[data-testid=host-demo-maintenance]").GetAttribute("aria-label"));
    }

    [Fact]
    public async Task A_vm_placed_on_a_host_shows_in_its_allocation_through_ResourceChanged()
    {
        var page = Render<HostList>();
        page.WaitForAssertion(() => Assert.Equal("0", page.Find("[data-testid=host-demo-vms]").TextContent.Trim()));
        var vm = await PlaceVmAsync(vcpus: 4, ramMiB: 8192);

        Services.GetRequiredService<LiveUpdates>().Publish(new ResourceChanged(vm.TenantId, vm.Id, 1));

        page.WaitForAssertion(() => Assert.Equal("1", page.Find("[data-testid=host-demo-vms]").TextContent.Trim()));
        Assert.Equal("4 vCPU / 128 vCPU", Caption(page, "host-demo-cpu"));
        Assert.Equal("8 GiB / 128 GiB", Caption(page, "host-demo-ram"));
    }

    [Fact]
    public async Task Testing_a_rows_connection_says_what_the_host_answered()
    {
        var snackbars = Render<MudSnackbarProvider>();
        var page = Render<HostList>();

        await page.WaitForElement("[data-testid=host-demo-test]").ClickAsync(new());

        snackbars.WaitForAssertion(() => Assert.Contains("demo answered: 32 CPUs, 128 GiB memory, 2048 GiB storage, simulated 1.0.", snackbars.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Maintenance_is_switched_on_and_off_from_the_row()
    {
        var page = Render<HostList>();

        await page.WaitForElement("[data-testid=host-demo-maintenance]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Equal("Maintenance", page.Find("[data-testid=host-demo-state]").TextContent.Trim()));
        await page.Find("[data-testid=host-demo-maintenance]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=host-demo-state]").TextContent.Trim()));
    }

    [Fact]
    public async Task A_bad_name_is_explained_next_to_the_name_field_as_it_is_typed_and_saving_adds_nothing()
    {
        var saved = false;
        var form = Render<HostForm>(p => p.Add(x => x.OnSaved, _ => saved = true));

        form.Find("[data-testid=host-form-name]").Input("rack 2!");

        Assert.Contains("only letters, digits", FieldText(form, "host-form-name"), StringComparison.Ordinal);
        await form.Find("[data-testid=host-form-save]").ClickAsync(new());
        form.WaitForAssertion(() => Assert.Contains("only letters, digits", FieldText(form, "host-form-name"), StringComparison.Ordinal));
        Assert.False(saved);
        Assert.Equal(["demo"], await HostNamesAsync());
    }

    [Fact]
    public async Task A_name_already_taken_is_refused_by_the_server_and_said_next_to_the_name_field()
    {
        var form = Render<HostForm>();

        form.Find("[data-testid=host-form-name]").Input("DEMO");
        form.Find("[data-testid=host-form-uri]").Input("simulated://demo-two");
        await form.Find("[data-testid=host-form-save]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Contains("A host named DEMO is already registered.", FieldText(form, "host-form-name"), StringComparison.Ordinal));
        Assert.Equal(["demo"], await HostNamesAsync());
    }

    [Fact]
    public async Task Testing_a_new_host_before_saving_shows_its_facts_and_saves_nothing()
    {
        var form = Render<HostForm>();

        form.Find("[data-testid=host-form-name]").Input("rack-2");
        Assert.Equal("simulated://rack-2", form.Find("[data-testid=host-form-uri]").GetAttribute("value"));
        await form.Find("[data-testid=host-form-test]").ClickAsync(new());

        form.WaitForAssertion(() => Assert.Equal(
            "rack-2 answered: 32 CPUs, 128 GiB memory, 2048 GiB storage (2048 GiB free), simulated 1.0.",
            form.Find("[data-testid=host-form-test-result]").TextContent.Trim()));
        Assert.Equal(["demo"], await HostNamesAsync());
    }

    [Fact]
    public async Task A_host_added_through_the_dialog_appears_as_a_row()
    {
        var dialogs = Render<MudDialogProvider>();
        var page = Render<HostList>();

        // The page awaits the dialog's result, so the click is not awaited: it ends when the dialog closes.
        var opening = page.WaitForElement("[data-testid=host-add]").ClickAsync(new());
        dialogs.WaitForElement("[data-testid=host-form-name]").Input("rack-2");
        dialogs.Find("[data-testid=host-form-cpu-overcommit]").Input("2");
        await dialogs.Find("[data-testid=host-form-save]").ClickAsync(new());

        await opening.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        page.WaitForAssertion(() => Assert.Equal("Online", page.Find("[data-testid=host-rack-2-state]").TextContent.Trim()));
        Assert.Equal("0 vCPU / 64 vCPU", Caption(page, "host-rack-2-cpu"));
        Assert.Empty(dialogs.FindAll("[data-testid=host-dialog]"));
    }

    [Fact]
    public async Task Removing_a_host_asks_first_and_then_drops_its_row()
    {
        var dialogs = Render<MudDialogProvider>();
        await Hosts.AddAsync(admin, new HostInput("rack-2", HostDriver.Simulated, "simulated://rack-2", "", 4, 1), Ct);
        var page = Render<HostList>();

        var asking = page.WaitForElement("[data-testid=host-rack-2-remove]").ClickAsync(new());
        var confirm = dialogs.WaitForElement("button:contains('Remove')");
        Assert.Contains("Remove rack-2?", dialogs.Markup, StringComparison.Ordinal);
        await confirm.ClickAsync(new());
        await asking.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=host-rack-2-state]")));
        Assert.Equal(["demo"], await HostNamesAsync());
    }

    private static string Caption(IRenderedComponent<HostList> page, string testId) =>
        page.Find($"[data-testid={testId}] .mud-typography").TextContent.Trim();

    /// <summary>The text of the smallest block around a field that holds no other field: its label, value and message.</summary>
    private static string FieldText(IRenderedComponent<HostForm> form, string testId)
    {
        IElement block = form.Find($"[data-testid={testId}]");
        while (block.ParentElement is { } parent && parent.QuerySelectorAll("input, textarea").Length == 1)
            block = parent;
        return block.TextContent;
    }

    private async Task<Resource> PlaceVmAsync(int vcpus, int ramMiB)
    {
        var tenantId = await Services.GetRequiredService<VirtPortal.Core.Tenancy.TenantService>()
            .CreateAsync(Actor.System, "Acme", null, VirtPortal.Core.Tenancy.TenantQuota.Default, Ct);
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        var vm = new Resource
        {
            Id = Guid.NewGuid(), TenantId = tenantId, Kind = ResourceKind.Vm, Name = "web-1", VCpus = vcpus, RamMiB = ramMiB, DiskGiB = 40,
            State = ResourceState.Running, CreatedAt = DateTimeOffset.UtcNow, LeaseEndsAt = DateTimeOffset.UtcNow.AddDays(7), Version = 1,
            HostId = await db.Hosts.Select(h => h.Id).SingleAsync(Ct),
        };
        db.Resources.Add(vm);
        await db.SaveChangesAsync(Ct);
        return vm;
    }

    private async Task<List<string>> HostNamesAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(Ct);
        return await db.Hosts.OrderBy(h => h.Name).Select(h => h.Name).ToListAsync(Ct);
    }
}
