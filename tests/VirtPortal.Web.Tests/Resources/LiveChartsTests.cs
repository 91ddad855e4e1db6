using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using VirtPortal.Web.Components.Pages.Resources;

namespace VirtPortal.Web.Tests.Resources;

/// <summary>The charts component hands its element to js/live-charts.js and drives it only on range changes and disposal.</summary>
public sealed class LiveChartsTests : PortalComponentTest
{
    private static readonly Guid VmId = Guid.Parse("0193a3c4-0000-7000-8000-00000000c0de");

    private readonly BunitJSModuleInterop module;

    public LiveChartsTests()
    {
        module = JSInterop.SetupModule(LiveCharts.ModulePath);
        module.Mode = JSRuntimeMode.Strict;
        module.SetupModule("start", _ => true);
        module.SetupVoid("setRange", _ => true).SetVoidResult();
        module.SetupVoid("stop", _ => true).SetVoidResult();
    }

    [Fact]
    public void It_imports_the_module_and_starts_it_on_its_chart_element_with_the_resource_id()
    {
        var charts = Render<LiveCharts>(p => p.Add(x => x.ResourceId, VmId));

        var start = module.VerifyInvoke("start");
        start.Arguments[0].ShouldBeElementReferenceTo(charts.Find("[data-testid=live-charts]"));
        Assert.Equal(VmId, start.Arguments[1]);
        JSInterop.VerifyInvoke("import");
    }

    [Fact]
    public void A_databases_charts_start_as_a_databases_with_the_hour_live_and_offer_the_day_and_week()
    {
        var charts = Render<LiveCharts>(p => p.Add(x => x.ResourceId, VmId).Add(x => x.Kind, LiveChartsKind.Database));

        var start = module.VerifyInvoke("start");
        Assert.Equal("""{"range":"Hour","kind":"database"}""", System.Text.Json.JsonSerializer.Serialize(start.Arguments[2]));
        Assert.Equal(
            ["live-charts-range-Hour", "live-charts-range-Day", "live-charts-range-Week"],
            charts.FindAll("[data-testid^=live-charts-range-]").Select(b => b.GetAttribute("data-testid")));
        Assert.Equal("true", charts.Find("[data-testid=live-charts-range-Hour]").GetAttribute("aria-pressed"));
    }

    [Fact]
    public void A_VMs_charts_start_on_the_fifteen_minutes_live()
    {
        Render<LiveCharts>(p => p.Add(x => x.ResourceId, VmId));

        Assert.Equal("""{"range":"FifteenMinutes","kind":"vm"}""", System.Text.Json.JsonSerializer.Serialize(module.VerifyInvoke("start").Arguments[2]));
    }

    [Fact]
    public void Choosing_a_range_asks_the_module_for_it_by_the_hubs_range_name()
    {
        var charts = Render<LiveCharts>(p => p.Add(x => x.ResourceId, VmId));

        charts.Find("[data-testid=live-charts-range-Day]").Click();

        var setRange = module.VerifyInvoke("setRange");
        Assert.IsAssignableFrom<IJSObjectReference>(setRange.Arguments[0]);
        Assert.Equal("Day", setRange.Arguments[1]);
        Assert.Equal("true", charts.Find("[data-testid=live-charts-range-Day]").GetAttribute("aria-pressed"));
        Assert.Equal("false", charts.Find("[data-testid=live-charts-range-FifteenMinutes]").GetAttribute("aria-pressed"));
    }

    [Fact]
    public async Task Disposing_it_stops_the_charts_it_started()
    {
        Render<LiveCharts>(p => p.Add(x => x.ResourceId, VmId));
        module.VerifyNotInvoke("stop");

        await DisposeComponentsAsync();

        var stop = module.VerifyInvoke("stop");
        Assert.IsAssignableFrom<IJSObjectReference>(stop.Arguments[0]);
    }

    [Fact]
    public void It_renders_once_however_the_charts_it_started_go_on()
    {
        var charts = Render<LiveCharts>(p => p.Add(x => x.ResourceId, VmId));

        charts.WaitForAssertion(() => module.VerifyInvoke("start"));

        // The markup Blazor owns holds no figure: the JS module fills the chart element on its own.
        Assert.Equal(1, charts.RenderCount);
        Assert.Empty(charts.Find("[data-testid=live-charts]").Children);
    }
}
