using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Data;
using VirtPortal.Core.Provisioning;
using VirtPortal.Core.Resources;
using VirtPortal.E2E.Infrastructure;
using VirtPortal.E2E.Pages;
using VirtPortal.Libvirt.Tests;
using static Microsoft.Playwright.Assertions;

namespace VirtPortal.E2E.Journeys;

/// <summary>
/// The console in the browser: noVNC on the VM page, through the portal's own proxy, against a real guest
/// of the test image on this machine's libvirt (qemu:///system; run under the libvirt lock), and on the
/// simulated host, which has none.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsoleTests(BrowserFixture browser)
{
    private const string ConsoleLogDirectory = "/var/log/libvirt/qemu";

    [Fact]
    public async Task A_member_sees_the_guests_screen_and_types_a_command_into_it_and_helpdesk_watches_view_only()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = browser.LibvirtServer;
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var name = $"console-{token}";
        var (tenantId, member) = await server.NewTenantWithMemberAsync($"Console Works {token}", $"console-{token}@e2e.virtportal.local", "Cleo Console", "console-password", ct: ct);

        await using var memberContext = await browser.NewContextAsync(server, $"console-{token}@e2e.virtportal.local", "console-password");
        var page = await memberContext.NewPageAsync();
        var form = new NewRequestPage(page);
        await form.OpenAsync(tenantId);
        await form.FillVmAsync(name, "Tiny test guest", "small");
        await form.Submit.ClickAsync();
        await server.ApproveTheRequestAsync(tenantId, ct);

        Guid? vmId = null;
        try
        {
            await new Shell(page).OpenAsync($"/tenants/{tenantId}");
            // A real create: libvirt starts QEMU (TCG here) and the guest boots.
            await Expect(page.GetByTestId($"resource-state-{name}")).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 120_000 });
            var vm = Assert.Single(await server.Services.GetRequiredService<ResourceQueries>().ListAsync(member, tenantId, ct));
            vmId = vm.Id;
            var domain = ResourceLifecycle.DomainName(new Resource { Id = vm.Id, Name = name });
            var serial = new GuestConsole(Path.Combine(ConsoleLogDirectory, domain + "-console.log"));
            // Its shell on tty1 (the screen VNC shows) has started once init says so on the serial line.
            await serial.WaitForCountAsync(GuestConsole.Ready, 1, TimeSpan.FromSeconds(60), ct);

            await page.GetByTestId($"vm-{name}-link").ClickAsync();
            var console = new VmConsole(page);
            await console.Open.ClickAsync();

            await Expect(console.State).ToHaveAttributeAsync("data-state", "connected", new() { Timeout = 30_000 });
            await Expect(console.ViewOnly).ToHaveCountAsync(0);
            await Expect(console.CtrlAltDel).ToBeEnabledAsync();
            var before = await console.WaitUntilDrawnAsync(15_000);
            Assert.True(before.Width >= 640 && before.Height >= 400, $"the guest's screen is {before.Width}x{before.Height}");

            // Upper case, '|' and '/' need Shift or their own keys; the guest's shell echoes the word to its serial line too.
            var word = $"VP-typed-{token}";
            var command = $"echo {word} | tee /dev/ttyS0\n";
            await console.TypeAsync(command);
            await Expect(console.TypeTextResult).ToHaveTextAsync($"Typed {command.Length} characters.", new() { Timeout = 30_000 });
            await serial.WaitForCountAsync(word, 1, TimeSpan.FromSeconds(30), ct);
            var after = await console.WaitUntilChangedAsync(before, 15_000);
            Assert.True(after.Colours > 1);

            await console.Screen.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "console-typed.png") });
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "console-page.png"), FullPage = true });

            // A reconnect is a new session on a fresh ticket (each is good once): the proxy records both.
            await console.Reconnect.ClickAsync();
            await Expect(console.State).ToHaveAttributeAsync("data-state", "connected", new() { Timeout = 30_000 });
            await console.WaitUntilDrawnAsync(15_000);
            await WaitForSessionsStartedAsync(server, member.UserId, name, 2, ct);

            // Fullscreen is the screen alone, scaled to the whole window.
            await console.Fullscreen.ClickAsync();
            await page.WaitForFunctionAsync("() => document.fullscreenElement?.dataset.testid === 'console-screen'");
            await page.EvaluateAsync("() => document.exitFullscreen()");

            // Helpdesk watches the same screen, view only: no keys to send, and the proxy drops any it were sent.
            await using var helpdeskContext = await browser.NewContextAsync(server, "helpdesk@demo.virtportal.local", null);
            var helpdeskPage = await helpdeskContext.NewPageAsync();
            await new Shell(helpdeskPage).OpenAsync($"/vms/{vm.Id}");
            var watching = new VmConsole(helpdeskPage);
            await watching.Open.ClickAsync();
            await Expect(watching.State).ToHaveAttributeAsync("data-state", "connected", new() { Timeout = 30_000 });
            await Expect(watching.ViewOnly).ToBeVisibleAsync();
            await Expect(watching.CtrlAltDel).ToHaveCountAsync(0);
            await Expect(watching.TypeText).ToHaveCountAsync(0);
            await watching.WaitUntilDrawnAsync(15_000);
            await helpdeskPage.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "console-view-only.png"), FullPage = true });
        }
        finally
        {
            if (vmId is { } id)
            {
                await server.Services.GetRequiredService<ResourceActions>().RequestAsync(Arrange.Admin, id, OperationKind.Delete, name, CancellationToken.None);
                await new Shell(page).OpenAsync($"/tenants/{tenantId}");
                await Expect(page.GetByTestId($"resource-state-{name}")).ToHaveCountAsync(0, new() { Timeout = 60_000 });
            }
        }
    }

    private static async Task WaitForSessionsStartedAsync(PortalServer server, string userId, string vmName, int count, CancellationToken ct)
    {
        var target = $"Vm {vmName}";
        for (var waited = 0; waited < 150; waited++)
        {
            await using var db = await server.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
            if (await db.AuditEntries.CountAsync(e => e.Action == AuditActions.ConsoleStarted && e.ActorId == userId && e.Target == target, ct) >= count)
                return;
            await Task.Delay(100, ct);
        }

        Assert.Fail($"The proxy did not record {count} console sessions of {vmName} within 15 s.");
    }

    [Fact]
    public async Task On_the_simulated_host_the_console_says_there_is_none_instead_of_failing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (tenantId, _) = await browser.Server.NewTenantWithMemberAsync("Console Demo", "console-demo@e2e.virtportal.local", "Dora Demo", "console-demo-password", ct: ct);

        await using var memberContext = await browser.NewContextAsync("console-demo@e2e.virtportal.local", "console-demo-password");
        var page = await memberContext.NewPageAsync();
        var form = new NewRequestPage(page);
        await form.OpenAsync(tenantId);
        await form.FillVmAsync("demo-console-vm", "Debian 12", "small");
        await form.Submit.ClickAsync();
        await Expect(page.GetByTestId("request-state")).ToHaveAttributeAsync("data-state", "Completed", new() { Timeout = 30_000 });
        await new Shell(page).OpenAsync($"/tenants/{tenantId}");
        await Expect(page.GetByTestId("resource-state-demo-console-vm")).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 30_000 });
        await page.GetByTestId("vm-demo-console-vm-link").ClickAsync();

        var console = new VmConsole(page);
        await console.Open.ClickAsync();

        await Expect(console.Unavailable).ToContainTextAsync("simulated host \"demo\", which has no console");
        await Expect(console.Screen).ToHaveCountAsync(0);
        await Expect(console.Reconnect).ToBeVisibleAsync();
    }
}
