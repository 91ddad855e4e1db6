using VirtPortal.Core.Users;
using VirtPortal.Libvirt.Tests;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// The console through the proxy to a real guest's QEMU VNC websocket: what is typed reaches the guest's
/// shell (its serial console log is the witness) and the screen comes back; a helpdesk viewer sees the
/// screen but types nothing into it.
/// </summary>
public sealed class QemuConsoleTests(QemuConsolePortal portal) : IClassFixture<QemuConsolePortal>
{
    private static readonly TimeSpan SerialTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_members_console_shows_the_guests_screen_and_runs_what_they_type()
    {
        await using var member = await OpenAsync(portal.Member);
        Assert.StartsWith("QEMU", member.DesktopName, StringComparison.Ordinal);
        Assert.True(member.LitPixels() > 500, $"the screen is blank ({member.LitPixels()} lit pixels)");

        await member.TypeTextAsync("echo relay-$((6*7)) >/dev/ttyS0\n", Ct);

        Assert.True(await member.WaitForChangeAsync(Ct) > 0);
        await portal.Serial.WaitForAsync(log => log.Contains("relay-42", StringComparison.Ordinal), "relay-42", SerialTimeout, Ct);
    }

    [Fact]
    public async Task A_helpdesk_viewer_sees_the_screen_but_its_keys_never_reach_the_guest()
    {
        var helpdesk = await portal.CreateUserAsync(GlobalRoles.Helpdesk);
        await using var viewer = await OpenAsync(helpdesk);
        Assert.True(viewer.LitPixels() > 500, $"the screen is blank ({viewer.LitPixels()} lit pixels)");

        await viewer.TypeTextAsync("echo viewer-$((6*7)) >/dev/ttyS0\n", Ct);
        // Answered only once QEMU has read everything the proxy sent it on this connection before.
        await viewer.RefreshAsync(Ct);
        await using var member = await OpenAsync(portal.Member);
        await member.TypeTextAsync("echo member-$((6*7)) >/dev/ttyS0\n", Ct);

        await portal.Serial.WaitForAsync(log => log.Contains("member-42", StringComparison.Ordinal), "member-42", SerialTimeout, Ct);
        Assert.DoesNotContain("viewer-42", portal.Serial.Read(), StringComparison.Ordinal);
        Assert.True(await viewer.WaitForChangeAsync(Ct) > 0);
    }

    /// <summary>Signs the user in, opens the console through the proxy and paints the whole screen once.</summary>
    private async Task<RfbClient> OpenAsync(Hubs.LiveUser user)
    {
        var client = new RfbClient(await portal.ConnectAsync(await portal.SignInAsync(user), portal.VmId));
        await client.HandshakeAsync(Ct);
        await client.UseRawTrueColourAsync(Ct);
        await client.RefreshAsync(Ct);
        return client;
    }
}
