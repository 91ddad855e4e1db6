using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using VirtPortal.Core.Audit;
using VirtPortal.Core.Tenancy;
using VirtPortal.Core.Tokens;
using VirtPortal.Core.Users;
using VirtPortal.Web.Console;
using VirtPortal.Web.Tests.Console;
using VirtPortal.Web.Tests.Hubs;

namespace VirtPortal.Web.Tests.Api;

/// <summary>
/// A script opens a VM's console: it takes a ticket with its API token and opens the websocket with the same token,
/// under the VM page's rules (who gets full control, view-only, the session limit). The VMs are on libvirt's test
/// driver, whose VNC ports are a real RFB server of the test's own (see <see cref="ConsolePortal"/>).
/// </summary>
public sealed class ConsoleApiTests(ConsolePortal portal) : IClassFixture<ConsolePortal>, IAsyncDisposable
{
    private readonly RfbServer vnc = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_members_token_takes_a_ticket_and_opens_the_console_with_it()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var token = await TokenAsync(member.Actor);
        using var client = Client(token.Secret);

        using var response = await client.PostAsync($"/api/v1/resources/{vm}/console-ticket");
        var ticket = await response.ExpectAsync(HttpStatusCode.OK);
        using var socket = Socket(token.Secret, ticket);
        await socket.ConnectAsync(new Uri(ticket.GetProperty("webSocketUrl").GetString()!), Ct);

        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.False(ticket.GetProperty("viewOnly").GetBoolean());
        Assert.Equal(portal.ConsoleUrl(vm), new Uri(ticket.GetProperty("webSocketUrl").GetString()!));
        Assert.Equal(ConsoleProxy.Subprotocol, socket.SubProtocol);
        Assert.StartsWith("full control", (await portal.SingleAuditAsync(member, AuditActions.ConsoleStarted)).Details, StringComparison.Ordinal);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
    }

    [Fact]
    public async Task A_read_only_token_and_a_helpdesk_token_get_a_view_only_console()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var helpdesk = await portal.CreateUserAsync(GlobalRoles.Helpdesk);
        using var reader = Client((await TokenAsync(member.Actor, readOnly: true)).Secret);
        using var staff = Client((await TokenAsync(helpdesk.Actor)).Secret);

        using var read = await reader.PostAsync($"/api/v1/resources/{vm}/console-ticket");
        using var watched = await staff.PostAsync($"/api/v1/resources/{vm}/console-ticket");

        Assert.True((await read.ExpectAsync(HttpStatusCode.OK)).GetProperty("viewOnly").GetBoolean());
        Assert.True((await watched.ExpectAsync(HttpStatusCode.OK)).GetProperty("viewOnly").GetBoolean());
    }

    [Fact]
    public async Task A_ticket_opens_the_console_only_with_the_token_that_took_it()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var first = await TokenAsync(member.Actor);
        var second = await TokenAsync(member.Actor);
        using var client = Client(first.Secret);
        using var response = await client.PostAsync($"/api/v1/resources/{vm}/console-ticket");
        var ticket = await response.ExpectAsync(HttpStatusCode.OK);

        using var other = Socket(second.Secret, ticket);
        using var none = Socket(null, ticket);

        Assert.Equal(HttpStatusCode.Forbidden, await portal.RefusedAsync(other, vm));
        Assert.Equal("ticket of another sign-in session", Assert.Single(await portal.AuditOfAsync(member, AuditActions.ConsoleRefused)).Details);
        Assert.Equal(HttpStatusCode.Unauthorized, await portal.RefusedAsync(none, vm));
    }

    [Fact]
    public async Task A_revoked_token_cannot_open_the_console_it_took_a_ticket_for()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var token = await TokenAsync(member.Actor);
        using var client = Client(token.Secret);
        using var response = await client.PostAsync($"/api/v1/resources/{vm}/console-ticket");
        var ticket = await response.ExpectAsync(HttpStatusCode.OK);
        await portal.Services.GetRequiredService<ApiTokenService>().RevokeAsync(member.Actor, token.Token.Id, Ct);

        using var socket = Socket(token.Secret, ticket);

        Assert.Equal(HttpStatusCode.Unauthorized, await portal.RefusedAsync(socket, vm));
    }

    [Fact]
    public async Task An_open_console_ends_when_the_token_that_opened_it_is_revoked()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var token = await TokenAsync(member.Actor);
        using var http = Client(token.Secret);
        using var response = await http.PostAsync($"/api/v1/resources/{vm}/console-ticket");
        var socket = Socket(token.Secret, await response.ExpectAsync(HttpStatusCode.OK));
        await socket.ConnectAsync(portal.ConsoleUrl(vm), Ct);
        await using var client = new RfbClient(socket);
        await client.HandshakeAsync(Ct);
        using var server = await vnc.NextClientAsync(Ct);

        await portal.Services.GetRequiredService<ApiTokenService>().RevokeAsync(member.Actor, token.Token.Id, Ct);

        Assert.Equal((WebSocketCloseStatus)4001, await ConsolePortal.ReadUntilClosedAsync(client.Socket));
        Assert.True(await server.ClosedAsync(Ct));
        Assert.Contains("sign-in no longer valid", (await portal.SingleAuditAsync(member, AuditActions.ConsoleEnded)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Someone_outside_the_tenant_is_told_the_vm_does_not_exist_and_a_vm_without_a_console_says_why()
    {
        var (_, tenant, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var outsider = await portal.CreateUserAsync();
        await portal.CreateTenantAsync((outsider, TenantRole.Owner));
        var member = await portal.CreateUserAsync();
        var own = await portal.CreateTenantAsync((member, TenantRole.Member));
        var shutoff = await portal.CreateVmAsync(own);
        using var stranger = Client((await TokenAsync(outsider.Actor)).Secret);
        using var client = Client((await TokenAsync(member.Actor)).Secret);

        using var refused = await stranger.PostAsync($"/api/v1/resources/{vm}/console-ticket");
        using var unavailable = await client.PostAsync($"/api/v1/resources/{shutoff}/console-ticket");

        Assert.Equal("This resource does not exist or you may not see it.", (await refused.ExpectAsync(HttpStatusCode.NotFound)).Detail());
        Assert.Equal(tenant, (await portal.AuditOfAsync(outsider, AuditActions.AccessDenied)).Single().TenantId);
        Assert.Equal(ConsoleLocator.NotRunning, (await unavailable.ExpectAsync(HttpStatusCode.Conflict)).Detail());
    }

    [Fact]
    public async Task A_token_whose_user_has_the_most_sessions_open_is_told_so()
    {
        var (member, _, vm) = await portal.MemberWithVncVmAsync(vnc.Port);
        var token = await TokenAsync(member.Actor);
        using var client = Client(token.Secret);
        var open = new List<ClientWebSocket>();
        for (var i = 0; i < 3; i++)
        {
            using var taken = await client.PostAsync($"/api/v1/resources/{vm}/console-ticket");
            var ticket = await taken.ExpectAsync(HttpStatusCode.OK);
            var socket = Socket(token.Secret, ticket);
            await socket.ConnectAsync(portal.ConsoleUrl(vm), Ct);
            open.Add(socket);
        }

        using var response = await client.PostAsync($"/api/v1/resources/{vm}/console-ticket");

        Assert.Equal("You have 3 console sessions open already, the most one user may have: close one to open another.",
            (await response.ExpectAsync(HttpStatusCode.Conflict)).Detail());
        foreach (var socket in open)
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", Ct);
            socket.Dispose();
        }
    }

    public ValueTask DisposeAsync() => vnc.DisposeAsync();

    private Task<CreatedApiToken> TokenAsync(Actor user, bool readOnly = false) =>
        portal.Services.GetRequiredService<ApiTokenService>().CreateAsync(user, new ApiTokenDraft("console", DateTimeOffset.UtcNow.AddDays(1), null, readOnly), Ct);

    /// <summary>A script's client on the portal's real socket: the token in the Authorization header, nothing else.</summary>
    private HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = portal.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A websocket as a script opens it: no Origin, the token in its Authorization header, and the subprotocols the ticket's answer names.</summary>
    private static ClientWebSocket Socket(string? token, System.Text.Json.JsonElement ticket)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        foreach (var protocol in ticket.GetProperty("subprotocols").EnumerateArray())
            socket.Options.AddSubProtocol(protocol.GetString()!);
        return socket;
    }
}
