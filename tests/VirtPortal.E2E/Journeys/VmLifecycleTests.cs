using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

[Collection(BrowserCollection.Name)]
public sealed class VmLifecycleTests(BrowserFixture browser)
{
    [Fact]
    public async Task An_approved_vm_reaches_running_on_the_members_page_can_be_shut_down_there_and_helpdesk_sees_the_same()
    {
        // A tenant of its own, so that other journeys' VMs do not eat its quota.
        var ct = TestContext.Current.CancellationToken;
        var acme = new { Id = (await browser.Server.NewTenantWithMemberAsync("Lifecycle Labs", "life@e2e.virtportal.local", "Lia Lifecycle", "lifecycle-password", ct: ct)).TenantId };

        // The member keeps the tenant page open; everything below arrives by push.
        await using var memberContext = await browser.NewContextAsync("life@e2e.virtportal.local", "lifecycle-password");
        var tenantPage = await memberContext.NewPageAsync();
        await new Shell(tenantPage).OpenAsync($"/tenants/{acme.Id}");

        await using var approverContext = await browser.NewContextAsync("approver@demo.virtportal.local");
        var approver = await approverContext.NewPageAsync();
        await new Shell(approver).OpenAsync("/approvals");

        var formPage = await memberContext.NewPageAsync();
        var form = new NewRequestPage(formPage);
        await form.OpenAsync(acme.Id);
        await form.FillVmAsync("lifecycle-vm", "Debian 12", "large");
        await form.Submit.ClickAsync();
        await approver.GetByTestId("inbox-approve-lifecycle-vm").ClickAsync();

        var state = tenantPage.GetByTestId("resource-state-lifecycle-vm");
        await Expect(state).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 30_000 });

        await tenantPage.GetByTestId("vm-lifecycle-vm-shutdown").ClickAsync();
        await Expect(tenantPage.GetByTestId("confirm-action-dialog")).ToContainTextAsync("like pressing the power button");
        await tenantPage.GetByTestId("confirm-action").ClickAsync();
        await Expect(state).ToHaveAttributeAsync("data-state", "Shutoff", new() { Timeout = 30_000 });
        await Expect(tenantPage.GetByTestId("vm-lifecycle-vm-start")).ToBeVisibleAsync();

        // Helpdesk sees the same state and no buttons to change it.
        await using var helpdeskContext = await browser.NewContextAsync("helpdesk@demo.virtportal.local");
        var helpdesk = await helpdeskContext.NewPageAsync();
        await new Shell(helpdesk).OpenAsync($"/tenants/{acme.Id}");
        await Expect(helpdesk.GetByTestId("resource-state-lifecycle-vm")).ToHaveAttributeAsync("data-state", "Shutoff");
        await Expect(helpdesk.GetByTestId("vm-lifecycle-vm-start")).ToHaveCountAsync(0);
        await tenantPage.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "tenant-resources.png"), FullPage = true });

        // Resize is a request, opened from the VM's row with the VM chosen, and approved like any other.
        await tenantPage.GetByTestId("vm-lifecycle-vm-resize").ClickAsync();
        await Expect(tenantPage.GetByTestId("resize-notice")).ToContainTextAsync("lifecycle-vm has 8 vCPU and 16384 MiB now");
        await tenantPage.GetByTestId("request-size").ClickAsync();
        await tenantPage.GetByTestId("size-option-medium").ClickAsync();
        var resize = new NewRequestPage(tenantPage);
        await Expect(resize.Submit).ToBeEnabledAsync(new() { Timeout = 15_000 });
        await resize.Submit.ClickAsync();
        await Expect(tenantPage.GetByTestId("request-state")).ToHaveAttributeAsync("data-state", "PendingApproval", new() { Timeout = 30_000 });
        await approver.GetByTestId("inbox-approve-lifecycle-vm").ClickAsync();
        await Expect(tenantPage.GetByTestId("request-state")).ToHaveAttributeAsync("data-state", "Completed", new() { Timeout = 30_000 });
        await new Shell(tenantPage).OpenAsync($"/tenants/{acme.Id}");
        await Expect(tenantPage.GetByTestId("resource-size-lifecycle-vm")).ToContainTextAsync("2 vCPU · 4096 MiB · 160 GiB");
        await Expect(tenantPage.GetByTestId("resource-state-lifecycle-vm")).ToHaveAttributeAsync("data-state", "Shutoff");
    }
}
