using Bunit;
using MudBlazor;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Components.Layout;

namespace VirtPortal.Web.Tests.Layout;

public sealed class TenantSwitcherTests : PortalComponentTest
{
    private static readonly TenantSummary Acme = Summary("Acme Research");
    private static readonly TenantSummary Globex = Summary("Globex Platform");

    public TenantSwitcherTests() => UseInteractiveServerRenderer();

    [Fact]
    public void Is_hidden_without_tenants()
    {
        var switcher = Render<TenantSwitcher>(p => p.Add(x => x.Tenants, []));

        Assert.Empty(switcher.FindAll("[data-testid=tenant-switcher]"));
    }

    [Fact]
    public void Is_hidden_with_one_tenant()
    {
        var switcher = Render<TenantSwitcher>(p => p
            .Add(x => x.Tenants, [Acme])
            .Add(x => x.CurrentTenantId, Acme.Id));

        Assert.Empty(switcher.FindAll("[data-testid=tenant-switcher]"));
    }

    [Fact]
    public void With_two_tenants_shows_the_current_tenant_name()
    {
        var switcher = Render<TenantSwitcher>(p => p
            .Add(x => x.Tenants, [Acme, Globex])
            .Add(x => x.CurrentTenantId, Globex.Id));

        Assert.Equal("Globex Platform", switcher.Find("[data-testid=tenant-switcher] button").TextContent.Trim());
    }

    [Fact]
    public async Task Picking_a_tenant_calls_OnSwitch_with_its_id()
    {
        // The menu's items render in the popover provider, as in MainLayout.
        var popovers = Render<MudPopoverProvider>();
        Guid? switchedTo = null;
        var switcher = Render<TenantSwitcher>(p => p
            .Add(x => x.Tenants, [Acme, Globex])
            .Add(x => x.CurrentTenantId, Acme.Id)
            .Add(x => x.OnSwitch, id => switchedTo = id));

        await switcher.Find("[data-testid=tenant-switcher] button").ClickAsync(new());
        popovers.WaitForAssertion(() => Assert.NotNull(popovers.Find("[data-testid='tenant-option-Globex Platform']")));
        await popovers.Find("[data-testid='tenant-option-Globex Platform']").ClickAsync(new());

        Assert.Equal(Globex.Id, switchedTo);
    }

    private static TenantSummary Summary(string name) =>
        new(Guid.NewGuid(), name, "", IsArchived: false, MemberCount: 1, TenantRole.Member, TenantQuota.Default, Version: 1);
}
