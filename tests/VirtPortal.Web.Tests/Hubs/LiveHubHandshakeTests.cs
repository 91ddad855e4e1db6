using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Client;
using VirtPortal.Core.Tenancy;
using VirtPortal.Web.Hubs;

namespace VirtPortal.Web.Tests.Hubs;

/// <summary>Who may open a live connection: signed-in users, from the portal's own pages, trusted origins or scripts.</summary>
public sealed class LiveHubHandshakeTests(LivePortal portal) : IClassFixture<LivePortal>
{
    [Fact]
    public async Task An_anonymous_connection_is_refused_with_401()
    {
        await using var connection = portal.Connection(cookies: null, portal.OwnOrigin);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task An_anonymous_websocket_upgrade_is_refused_with_401()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUrl(), TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://127.0.0.1:1")]
    [InlineData("null")]
    public async Task A_signed_in_users_negotiate_from_a_foreign_origin_is_refused_with_403(string origin)
    {
        var user = await portal.CreateUserAsync();
        await using var connection = portal.Connection(await portal.SignInAsync(user), origin);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task A_signed_in_users_websocket_upgrade_from_a_foreign_origin_is_refused_with_403()
    {
        var user = await portal.CreateUserAsync();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.Cookies = await portal.SignInAsync(user);
        socket.Options.SetRequestHeader("Origin", "https://evil.example");

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUrl(), TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Theory]
    [InlineData("own")]
    [InlineData(LivePortal.TrustedOrigin)]
    [InlineData(null)]
    public async Task The_portals_own_origin_a_configured_origin_and_a_script_without_origin_connect_and_hear_changes(string? origin)
    {
        var member = await portal.CreateUserAsync();
        var tenant = await portal.CreateTenantAsync((member, TenantRole.Member));
        var vm = await portal.CreateVmAsync(tenant);
        var connection = portal.Connection(await portal.SignInAsync(member), origin == "own" ? portal.OwnOrigin : origin);
        await using var listener = await LiveListener.StartAsync(connection);

        await portal.RebootAsync(member, vm);

        var change = await listener.WaitForAsync(LiveEvents.ResourceChanged, vm);
        Assert.Equal(tenant, change.TenantId);
    }

    private Uri WebSocketUrl() => new UriBuilder(portal.HubUrl) { Scheme = "ws" }.Uri;
}
