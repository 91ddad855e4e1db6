using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Requests;
using VirtPortal.Core.Resources;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>
/// What the hosts say reaches an open page: a real guest on this machine's libvirt, paused and resumed
/// with virsh behind the portal's back, while a member keeps the tenant page open.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class OutsideChangesTests(BrowserFixture browser)
{
    private const string Uri = "qemu:///system";

    [Fact]
    public async Task A_vm_paused_with_virsh_shows_paused_outside_the_portal_on_an_open_member_page_and_running_again_when_resumed()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = browser.LibvirtServer;
        var admin = Arrange.Admin;
        var (tenantId, _) = await server.NewTenantWithMemberAsync("Outside Works", "outside@e2e.virtportal.local", "Oona Outside", "outside-password", ct: ct);

        await using var member = await browser.NewContextAsync(server, "outside@e2e.virtportal.local", "outside-password");
        var tenantPage = await member.NewPageAsync();
        await new Shell(tenantPage).OpenAsync($"/tenants/{tenantId}");
        var formPage = await member.NewPageAsync();
        var form = new NewRequestPage(formPage);
        await form.OpenAsync(tenantId);
        await form.FillVmAsync("outside-vm", "Tiny test guest", "small");
        await form.Submit.ClickAsync();
        var requests = server.Services.GetRequiredService<RequestQueries>();
        var pending = await WaitForAsync(async () => (await requests.ListForTenantAsync(admin, tenantId, ct)) is [var first, ..] ? first : null, ct);
        if (pending.State == RequestState.PendingApproval)
            await server.Services.GetRequiredService<RequestDecisions>().ApproveAsync(admin, pending.Id, ct);

        var state = tenantPage.GetByTestId("resource-state-outside-vm");
        var difference = tenantPage.GetByTestId("resource-difference-outside-vm");
        var resources = server.Services.GetRequiredService<ResourceQueries>();
        Guid? vmId = null;
        try
        {
            // A real create: libvirt starts QEMU (TCG here) and the guest boots.
            await Expect(state).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 120_000 });
            vmId = (await resources.ListAsync(admin, tenantId, ct)).Single().Id;
            var domain = ResourceLifecycle.DomainName(new Resource { Id = vmId.Value, Name = "outside-vm" });

            Assert.Equal(0, await VirshAsync("suspend", domain));
            await Expect(state).ToHaveAttributeAsync("data-state", "Paused", new() { Timeout = 15_000 });
            await Expect(difference).ToContainTextAsync("Paused outside the portal ·");
            // Offered for what the host shows: a VM paused outside the portal can be resumed.
            await Expect(tenantPage.GetByTestId("vm-outside-vm-resume")).ToBeVisibleAsync();
            await tenantPage.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "paused-outside-the-portal.png"), FullPage = true });

            Assert.Equal(0, await VirshAsync("resume", domain));
            await Expect(state).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 15_000 });
            await Expect(difference).ToHaveCountAsync(0);
        }
        finally
        {
            if (vmId is { } id)
            {
                await server.Services.GetRequiredService<ResourceActions>().RequestAsync(admin, id, OperationKind.Delete, "outside-vm", CancellationToken.None);
                await Expect(state).ToHaveCountAsync(0, new() { Timeout = 60_000 });
            }
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, CancellationToken ct)
        where T : class
    {
        for (var attempt = 0; attempt < 150; attempt++)
        {
            if (await probe() is { } found)
                return found;
            await Task.Delay(100, ct);
        }

        throw new TimeoutException("the request did not arrive within 15 s");
    }

    private static async Task<int> VirshAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Uri);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("virsh did not start");
        await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
