using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using VirtPortal.Web.Hosting;

namespace VirtPortal.Web.Tests.Api;

/// <summary>A portal behind a proxy at 10.1.2.0/24, allowing 2 sign-in attempts per client address in an hour.</summary>
public sealed class BehindProxyPortal() : ApiPortal(new Dictionary<string, string?>
{
    ["ReverseProxy:TrustedProxies:0"] = "10.1.2.0/24",
    ["Api:RateLimits:SignInPerAddress"] = "2",
    ["Api:RateLimits:Window"] = "01:00:00",
});

/// <summary>Behind a trusted proxy the sign-in limit counts each client, and a client cannot pick its own address.</summary>
public sealed class ReverseProxyTests(BehindProxyPortal portal) : IClassFixture<BehindProxyPortal>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sign_in_attempts_through_the_trusted_proxy_count_per_forwarded_client()
    {
        for (var i = 0; i < 2; i++)
            Assert.NotEqual(StatusCodes.Status429TooManyRequests, await SignInAsync(from: "10.1.2.7", forwardedFor: "203.0.113.5"));

        Assert.Equal(StatusCodes.Status429TooManyRequests, await SignInAsync(from: "10.1.2.7", forwardedFor: "203.0.113.5"));
        Assert.NotEqual(StatusCodes.Status429TooManyRequests, await SignInAsync(from: "10.1.2.7", forwardedFor: "203.0.113.6"));
    }

    [Fact]
    public async Task A_client_that_is_not_the_proxy_cannot_escape_the_limit_by_sending_its_own_forwarded_header()
    {
        for (var i = 0; i < 2; i++)
            Assert.NotEqual(StatusCodes.Status429TooManyRequests, await SignInAsync(from: "198.51.100.9", forwardedFor: $"192.0.2.{i + 1}"));

        Assert.Equal(StatusCodes.Status429TooManyRequests, await SignInAsync(from: "198.51.100.9", forwardedFor: "192.0.2.200"));
    }

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("10.0.0.0/24")]
    [InlineData("fd00::/8")]
    public void Addresses_and_networks_are_read(string value) => Assert.Single(ReverseProxy.Parse([value]));

    [Fact]
    public void A_value_that_is_no_address_stops_the_start_naming_it()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => ReverseProxy.Parse(["proxy.example"]));
        Assert.Equal("ReverseProxy:TrustedProxies has \"proxy.example\", which is neither an IP address nor a network such as 10.0.0.0/24.", failure.Message);
    }

    /// <summary>Posts a (bodiless) sign-in form as the connection from <paramref name="from"/>; the limiter answers before the form is read.</summary>
    private async Task<int> SignInAsync(string from, string forwardedFor)
    {
        var context = await portal.Server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = IPAddress.Parse(from);
            c.Request.Method = HttpMethods.Post;
            c.Request.Path = Components.PortalRoutes.Login;
            c.Request.Headers["X-Forwarded-For"] = forwardedFor;
            c.Request.ContentType = "application/x-www-form-urlencoded";
        }, Ct);
        return context.Response.StatusCode;
    }
}
