using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using VirtPortal.Core;
using VirtPortal.Core.Bootstrap;
using VirtPortal.Core.Demo;
using VirtPortal.Core.Users;
using VirtPortal.Web.Components.Pages.Requests;
using TestContext = Xunit.TestContext;

namespace VirtPortal.Web.Tests.Requests;

/// <summary>The request form against the real request service, demo tenants and demo catalog on SQLite.</summary>
public sealed class NewRequestFormTests : PortalCoreComponentTest
{
    private IRenderedComponent<MudPopoverProvider> popovers = default!;

    public NewRequestFormTests()
        : base(demo: true)
    {
    }

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(DemoAccounts.All[0].Email);
        SignIn(member!.Id, member.Email!);
        popovers = Render<MudPopoverProvider>();
    }

    [Fact]
    public async Task The_verdict_and_the_numbers_follow_the_size_and_the_lease()
    {
        var form = Render<NewRequest>();
        form.WaitForAssertion(() => form.Find("[data-testid=request-name]"));
        form.Find("[data-testid=request-name]").Input("web-1");
        await PickAsync(form, "request-template", "template-option-Debian 12");
        await PickAsync(form, "request-size", "size-option-small");

        form.WaitForAssertion(() =>
        {
            Assert.Equal("true", form.Find("[data-testid=preflight-verdict]").GetAttribute("data-auto"));
            Assert.Equal("1", form.Find("[data-testid=preflight-after-vcpus]").TextContent);
        });

        await PickAsync(form, "request-size", "size-option-large");
        form.WaitForAssertion(() =>
        {
            Assert.Equal("8", form.Find("[data-testid=preflight-after-vcpus]").TextContent);
            Assert.Contains("8 vCPUs is over the auto-approval limit of 4", form.Find("[data-testid=preflight-verdict]").TextContent, StringComparison.Ordinal);
        });

        await PickAsync(form, "request-size", "size-option-small");
        form.Find("[data-testid=request-lease]").Input("45");
        form.WaitForAssertion(() =>
            Assert.Contains("a lease of 45 days is over the auto-approval limit of 30 days", form.Find("[data-testid=preflight-verdict]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_name_is_explained_next_to_the_field_and_submit_says_why_it_is_disabled()
    {
        var form = Render<NewRequest>();
        form.WaitForAssertion(() => form.Find("[data-testid=request-name]"));

        form.Find("[data-testid=request-name]").Input("Web_1");

        form.WaitForAssertion(() =>
        {
            Assert.Contains("Use lower-case letters only.", form.Markup, StringComparison.Ordinal);
            Assert.True(form.Find("[data-testid=request-submit]").HasAttribute("disabled"));
            Assert.Contains("Fix first: Use lower-case letters only.", form.Find("[data-testid=request-submit-reason]").TextContent, StringComparison.Ordinal);
        });
    }

    private async Task PickAsync(IRenderedComponent<NewRequest> form, string select, string option)
    {
        await form.Find($"[data-testid={select}]").MouseDownAsync(new());
        popovers.WaitForAssertion(() => popovers.Find($"[data-testid='{option}']"));
        await popovers.Find($"[data-testid='{option}']").ClickAsync(new());
    }
}
