using VirtPortal.Core.Audit;
using VirtPortal.Core.Catalog;
using VirtPortal.Core.Common;
using VirtPortal.Core.Requests;

namespace VirtPortal.Core.Tests.Requests;

public sealed class RequestPreflightTests : PortalTestBase
{
    [Fact]
    public async Task Preflight_shows_usage_limit_and_after_for_every_quota_dimension()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.AddVmAsync(Host, s.TenantId, "existing", TestCatalog.SmallVm);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web"), Ct);

        Assert.Equal(
            [("vCPUs", 2, 16, 4), ("RAM", 4096, 32768, 8192), ("Disk", 40, 500, 80), ("VMs", 1, 10, 2), ("Databases", 0, 5, 0)],
            preflight.Quota.Lines.Select(l => (l.Dimension, l.Used, l.Limit, l.After)));
    }

    [Fact]
    public async Task Preflight_prices_a_month_as_template_plus_size_hourly_times_730()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web"), Ct);

        Assert.Equal((TestCatalog.DebianHourly + TestCatalog.SmallHourly) * Showback.HoursPerMonth, preflight.MonthlyCost);
        Assert.Equal(21.90m, preflight.MonthlyCost);
    }

    [Fact]
    public async Task Preflight_of_a_small_vm_says_it_approves_itself_and_can_be_submitted()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web"), Ct);

        Assert.True(preflight.Verdict.AutoApproves);
        Assert.True(preflight.CanSubmit);
        Assert.Null(preflight.BlockedReason);
    }

    [Fact]
    public async Task Preflight_of_a_large_vm_names_the_approvers_and_every_reason()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.LargeVm("big"), Ct);

        Assert.False(preflight.Verdict.AutoApproves);
        Assert.True(preflight.CanSubmit);
        Assert.Equal(3, preflight.Verdict.Reasons.Count);
        Assert.Equal(["any approver"], preflight.ApproverNames);
    }

    [Theory]
    [InlineData("Web01", "Use lower-case letters only.")]
    [InlineData("1web", "A name starts with a letter.")]
    [InlineData("web-", "A name cannot end with a hyphen.")]
    [InlineData("web_01", "Use lower-case letters, digits and hyphens only.")]
    [InlineData("", "Enter a name.")]
    public async Task Badly_formed_name_gives_its_specific_error_on_the_name_field(string name, string expected)
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm(name), Ct);

        Assert.Equal([expected], preflight.Errors["Name"]);
        Assert.False(preflight.CanSubmit);
    }

    [Fact]
    public async Task Name_longer_than_63_characters_is_refused_and_63_is_accepted()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var tooLong = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm(new string('a', 64)), Ct);
        var longest = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm(new string('a', 63)), Ct);

        Assert.Equal(["A name has at most 63 characters."], tooLong.Errors["Name"]);
        Assert.False(longest.Errors.ContainsKey("Name"));
    }

    [Fact]
    public async Task Name_of_a_live_resource_of_the_tenant_is_taken()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await RequestTestData.AddVmAsync(Host, s.TenantId, "web", TestCatalog.SmallVm);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web"), Ct);

        Assert.Equal(["This tenant already has a resource named web."], preflight.Errors["Name"]);
    }

    [Fact]
    public async Task Name_asked_for_by_an_open_request_is_taken()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        await Host.Drafts().SubmitAsync(s.OtherMember, s.LargeVm("web"), Ct);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web"), Ct);

        Assert.Equal(["An open request already asks for web."], preflight.Errors["Name"]);
    }

    [Fact]
    public async Task Size_the_template_does_not_run_at_gives_an_error_on_the_size_field()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web", s.Catalog.Large, s.Catalog.Appliance), Ct);

        Assert.Equal(["appliance does not run at size large; it allows small."], preflight.Errors["SizeId"]);
        Assert.False(preflight.Errors.ContainsKey("TemplateId"));
    }

    [Fact]
    public async Task Disabled_template_gives_an_error_on_the_template_field()
    {
        var s = await RequestTestData.ArrangeAsync(Host);

        var preflight = await Host.Drafts().PreflightAsync(s.Requester, s.NewVm("web", templateId: s.Catalog.Retired), Ct);

        Assert.Equal(["The template centos-7 is no longer offered."], preflight.Errors["TemplateId"]);
    }

    [Fact]
    public async Task Non_member_is_refused_and_the_denial_is_audited()
    {
        var s = await RequestTestData.ArrangeAsync(Host);
        var outsider = await Host.CreateUserAsync("outsider@test.local");

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Host.Drafts().PreflightAsync(outsider, s.NewVm("web"), Ct));

        // Recorded with the tenant probed, so its owners see the probe in their audit log.
        var denial = Assert.Single(await Host.AuditAsync(AuditActions.AccessDenied));
        Assert.Equal((outsider.UserId, (Guid?)s.TenantId), (denial.ActorId, denial.TenantId));
        Assert.Equal($"tenant {s.TenantId}", denial.Target);
    }
}
