using Bunit;
using VirtPortal.Core.Policies;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Components.Pages.Requests;

namespace VirtPortal.Web.Tests.Requests;

/// <summary>The panel renders what the policy and quota say; the form tests prove it follows the inputs.</summary>
public sealed class PreflightPanelTests : PortalComponentTest
{
    private static readonly TenantQuota Quota = new() { VCpus = 8, RamMiB = 16384, DiskGiB = 200, Vms = 3, Databases = 1 };
    private static readonly ResourceDemand Used = new() { VCpus = 6, RamMiB = 4096, DiskGiB = 40, Vms = 2 };

    [Fact]
    public void Within_the_rules_it_says_the_request_approves_automatically_and_shows_usage_after_it()
    {
        var panel = Render<PreflightPanel>(p => p.Add(x => x.Preflight, Preflight(new ResourceDemand { VCpus = 2, RamMiB = 4096, DiskGiB = 40, Vms = 1 }, vcpus: 2)));

        Assert.Equal("true", panel.Find("[data-testid=preflight-verdict]").GetAttribute("data-auto"));
        Assert.Contains("Approves automatically", panel.Find("[data-testid=preflight-verdict]").TextContent, StringComparison.Ordinal);
        Assert.Equal("8", panel.Find("[data-testid=preflight-after-vcpus]").TextContent);
        Assert.Equal("true", panel.Find("[data-testid=preflight-quota-vcpus]").GetAttribute("data-fits"));
        Assert.Contains("29.20", panel.Find("[data-testid=preflight-cost]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_a_rule_it_names_who_must_approve_and_why()
    {
        var panel = Render<PreflightPanel>(p => p.Add(x => x.Preflight, Preflight(new ResourceDemand { VCpus = 2, Vms = 1 }, vcpus: 6)));

        var verdict = panel.Find("[data-testid=preflight-verdict]");
        Assert.Equal("false", verdict.GetAttribute("data-auto"));
        Assert.Contains("Needs approval by any approver because 6 vCPUs is over the auto-approval limit of 4", verdict.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_quota_it_marks_the_dimension_and_says_why_submit_is_blocked()
    {
        var panel = Render<PreflightPanel>(p => p.Add(x => x.Preflight, Preflight(new ResourceDemand { VCpus = 4, Vms = 1 }, vcpus: 4)));

        Assert.Equal("false", panel.Find("[data-testid=preflight-quota-vcpus]").GetAttribute("data-fits"));
        Assert.Equal("10", panel.Find("[data-testid=preflight-after-vcpus]").TextContent);
        Assert.Contains("vCPUs: 6 used + 4 requested = 10, over the quota of 8", panel.Find("[data-testid=preflight-blocked]").TextContent, StringComparison.Ordinal);
    }

    private static Preflight Preflight(ResourceDemand demand, int vcpus)
    {
        var verdict = PolicyEvaluator.Evaluate(TenantPolicy.Default(Guid.NewGuid()), new PolicyFacts(RequestKind.NewVm, vcpus, demand.RamMiB, demand.DiskGiB, 30));
        return new Preflight(new Dictionary<string, string[]>(), QuotaCheck.For(Quota, Used, demand), verdict, 29.20m,
            verdict.AutoApproves ? [] : ["any approver"]);
    }
}
