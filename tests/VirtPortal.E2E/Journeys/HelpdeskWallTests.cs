using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>Helpdesk keeps the wall open while a member's VM changes: the row follows, with no buttons to change it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class HelpdeskWallTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_helpdesk_wall_shows_a_members_vm_change_state_live_and_offers_no_actions()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = browser.Server.Services;
        var (tenantId, member) = await browser.Server.NewTenantWithMemberAsync("Wall Watchers", "wall@e2e.virtportal.local", "Walt Wall", "wall-password", ct: ct);

        await using var memberContext = await browser.NewContextAsync("wall@e2e.virtportal.local", "wall-password");
        var form = new NewRequestPage(await memberContext.NewPageAsync());
        await form.OpenAsync(tenantId);
        await form.FillVmAsync("wall-vm", "Debian 12", "small");
        await form.Submit.ClickAsync();

        await using var helpdeskContext = await browser.NewContextAsync("helpdesk@demo.virtportal.local");
        var wall = await helpdeskContext.NewPageAsync();
        await new Shell(wall).OpenAsync("/wall");
        await browser.Server.ApproveTheRequestAsync(tenantId, ct);

        // The VM appears on the open wall and reaches Running, pushed.
        var state = wall.GetByTestId("wall-state-wall-vm");
        await Expect(state).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 30_000 });
        await wall.GetByTestId("wall-search").FillAsync("Wall Watchers");
        await Expect(wall.GetByTestId("wall-count")).ToContainTextAsync("1 of");

        var vm = Assert.Single(await services.GetRequiredService<ResourceQueries>().ListAsync(member, tenantId, ct));
        await services.GetRequiredService<ResourceActions>().RequestAsync(member, vm.Id, OperationKind.Suspend, ct: ct);
        await Expect(state).ToHaveAttributeAsync("data-state", "Paused", new() { Timeout = 30_000 });
        await Expect(wall.GetByTestId("wall-confirmed-wall-vm")).Not.ToHaveTextAsync("not yet");
        await Expect(wall.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Resume" })).ToHaveCountAsync(0);
        // "Why is it paused": its last operations and its host, read-only.
        await wall.GetByTestId("wall-state-wall-vm").ClickAsync();
        await Expect(wall.GetByTestId("wall-why-operations")).ToContainTextAsync("Pause");
        await Expect(wall.GetByTestId("wall-why-host")).ToContainTextAsync("Host: demo · Online");
        await wall.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "helpdesk-wall.png"), FullPage = true });

        // A member is not staff: the wall is not theirs.
        var memberWall = await memberContext.NewPageAsync();
        await memberWall.GotoAsync("/wall");
        await Expect(memberWall.GetByTestId("wall-table")).ToHaveCountAsync(0);
    }
}
