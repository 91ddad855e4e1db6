using System.Net;
using System.Net.WebSockets;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// Every handshake the proxy refuses is answered before the upgrade with a 4xx, and audited with the
/// user, the VM's tenant and the reason, never the ticket.
/// </summary>
public sealed class ConsoleRefusalTests(ConsolePortal portal) : IClassFixture<ConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_handshake_without_a_ticket_is_refused_and_audited()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        using var socket = ConsolePortal.Socket(cookies, ticket: null, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(socket, vm));

        await AssertRefusedAsync(member, tenant, "no ticket");
    }

    [Fact]
    public async Task A_made_up_ticket_is_refused_and_audited()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        using var socket = ConsolePortal.Socket(cookies, "bm90LWEtdGlja2V0LWF0LWFsbC1qdXN0LWJ5dGVzLi4u", portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(socket, vm));

        await AssertRefusedAsync(member, tenant, "unknown ticket");
    }

    [Fact]
    public async Task A_ticket_for_another_vm_is_refused_and_audited()
    {
        var member = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vms = await portal.CreateVncVmsAsync(tenant, vnc.Port, vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(cookies, vms[0]);
        using var socket = ConsolePortal.Socket(cookies, ticket, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(socket, vms[1]));

        var entry = await AssertRefusedAsync(member, tenant, "ticket for another VM", ticket);
        Assert.Equal($"resource {vms[1]}", entry.Target);
    }

    [Fact]
    public async Task A_ticket_used_once_is_refused_the_second_time_and_audited()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(cookies, vm);
        using (var first = await portal.ConnectAsync(cookies, vm, ticket))
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
        using var again = ConsolePortal.Socket(cookies, ticket, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(again, vm));

        await AssertRefusedAsync(member, tenant, "ticket already used", ticket);
    }

    [Fact]
    public async Task Another_users_ticket_is_refused_audited_as_the_user_who_presented_it_and_burnt()
    {
        var owner = await portal.CreateUserAsync();
        var colleague = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((owner, TenantRole.Member), (colleague, TenantRole.Member));
        var vm = (await portal.CreateVncVmsAsync(tenant, vnc.Port))[0];
        var ownerCookies = await portal.SignInAsync(owner);
        var ticket = await portal.TicketAsync(ownerCookies, vm);
        using var stolen = ConsolePortal.Socket(await portal.SignInAsync(colleague), ticket, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(stolen, vm));

        await AssertRefusedAsync(colleague, tenant, "ticket of another user", ticket);
        using var late = ConsolePortal.Socket(ownerCookies, ticket, portal.OwnOrigin);
        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(late, vm));
        await AssertRefusedAsync(owner, tenant, "ticket already used", ticket);
    }

    [Fact]
    public async Task A_ticket_from_another_sign_in_of_the_same_user_is_refused_and_audited()
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var laptop = await portal.SignInAsync(member);
        var kiosk = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(laptop, vm);
        using var socket = ConsolePortal.Socket(kiosk, ticket, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(socket, vm));

        await AssertRefusedAsync(member, tenant, "ticket of another sign-in session", ticket);
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")]
    public async Task A_handshake_from_a_foreign_origin_is_refused_and_audited(string origin)
    {
        var (member, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        var ticket = await portal.TicketAsync(cookies, vm);
        using var socket = ConsolePortal.Socket(cookies, ticket, origin);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(socket, vm));

        await AssertRefusedAsync(member, tenant, $"foreign origin {origin}", ticket);
    }

    [Fact]
    public async Task A_configured_origin_and_a_script_without_origin_are_let_through()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var cookies = await portal.SignInAsync(member);
        foreach (var origin in new[] { LivePortal.TrustedOrigin, null })
        {
            using var socket = ConsolePortal.Socket(cookies, await portal.TicketAsync(cookies, vm), origin);
            await socket.ConnectAsync(portal.ConsoleUrl(vm), Ct);
            Assert.Equal(WebSocketState.Open, socket.State);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
        }

        Assert.Empty(await portal.AuditOfAsync(member, AuditActions.ConsoleRefused));
    }

    [Fact]
    public async Task A_fourth_concurrent_session_of_one_user_is_refused_and_audited_and_a_closed_one_frees_its_place()
    {
        var member = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vms = await portal.CreateVncVmsAsync(tenant, vnc.Port, vnc.Port);
        var browsers = new[] { await portal.SignInAsync(member), await portal.SignInAsync(member) };
        var open = new List<ClientWebSocket>();
        for (var i = 0; i < 2; i++)
            open.Add(await portal.ConnectAsync(browsers[i % 2], vms[i % 2]));
        // A ticket taken while a place was free, used once the third session took it.
        var late = await portal.TicketAsync(browsers[1], vms[1]);
        open.Add(await portal.ConnectAsync(browsers[0], vms[0]));
        using var fourth = ConsolePortal.Socket(browsers[1], late, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.TooManyRequests, await portal.RefusedAsync(fourth, vms[1]));
        // Asked now, the page gets no ticket and the reason in words.
        var offer = await portal.OfferAsync(browsers[1], vms[1]);
        Assert.Null(offer.Ticket);
        Assert.Equal("You have 3 console sessions open already, the most one user may have: close one to open another.", offer.Unavailable);

        await AssertRefusedAsync(member, tenant, "3 console sessions are open already");
        await open[0].CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
        await WaitUntilAsync(() => portal.Sessions.Of(member.UserId).Count == 2);
        open.Add(await portal.ConnectAsync(browsers[1], vms[1]));
        Assert.Equal(WebSocketState.Open, open[^1].State);
        foreach (var socket in open)
            socket.Dispose();
    }

    [Fact]
    public async Task An_anonymous_handshake_is_refused_with_401()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var ticket = await portal.TicketAsync(await portal.SignInAsync(member), vm);
        using var socket = ConsolePortal.Socket(cookies: null, ticket, portal.OwnOrigin);

        Assert.Equal(HttpStatusCode.Unauthorized, await portal.RefusedAsync(socket, vm));
    }

    /// <summary>The user's one console refusal: its reason, the VM's tenant, and no ticket in it.</summary>
    private async Task<AuditEntry> AssertRefusedAsync(LiveUser user, Guid tenant, string reason, string? ticket = null)
    {
        var entry = Assert.Single(await portal.AuditOfAsync(user, AuditActions.ConsoleRefused));
        Assert.Equal(reason, entry.Details);
        Assert.Equal(tenant, entry.TenantId);
        Assert.StartsWith("resource ", entry.Target, StringComparison.Ordinal);
        if (ticket is not null)
            Assert.DoesNotContain(ticket, entry.Details + entry.Target, StringComparison.Ordinal);
        return entry;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
            await Task.Delay(100, Ct);
        Assert.True(condition());
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();
}
