using System.Net;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.AspNetCore.HttpOverrides;

namespace VirtPortal.Web.Hosting;

/// <summary>
/// A portal behind a reverse proxy (nginx, HAProxy, a load balancer): <c>ReverseProxy:TrustedProxies</c> lists the
/// proxies' addresses or networks ("10.0.0.5", "10.0.0.0/24"). A request from one of them is taken to come from
/// the address in its <c>X-Forwarded-For</c> and over the scheme in <c>X-Forwarded-Proto</c>, so the sign-in limit
/// counts each client, not the proxy, and secure cookies and redirects see https. Headers from anyone else are
/// ignored (a client cannot choose its own address), and with no proxy listed nothing is read.
/// </summary>
public static class ReverseProxy
{
    public const string Section = "ReverseProxy:TrustedProxies";

    public static IServiceCollection AddPortalReverseProxy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var trusted = Parse(configuration.GetSection(Section).Get<string[]>() ?? []);
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var network in trusted)
                options.KnownIPNetworks.Add(network);
            // One proxy in front: the last address it appended is the client's.
            options.ForwardLimit = 1;
        });
        return services;
    }

    public static IApplicationBuilder UsePortalReverseProxy(this IApplicationBuilder app, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection(Section).Get<string[]>() is { Length: > 0 } ? app.UseForwardedHeaders() : app;
    }

    /// <summary>The proxies as networks (an address is a network of one); a value that is neither stops the start with its text.</summary>
    public static IReadOnlyList<IPNetwork> Parse(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var networks = new List<IPNetwork>();
        foreach (var value in values.Select(v => v.Trim()).Where(v => v.Length > 0))
        {
            if (IPNetwork.TryParse(value, out var network))
                networks.Add(network);
            else if (IPAddress.TryParse(value, out var address))
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else
                throw new InvalidOperationException($"{Section} has \"{value}\", which is neither an IP address nor a network such as 10.0.0.0/24.");
        }

        return networks;
    }
}
