using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace VirtPortal.Core.Webhooks;

/// <summary>
/// Where a delivery may go: http or https to a public address. Link-local addresses (169.254/16, fe80::/10, where
/// clouds answer metadata requests with credentials), the unspecified and multicast ones are refused always;
/// private and loopback ones unless <see cref="WebhookOptions.AllowPrivateTargets"/>. A name is checked when the
/// subscription is saved and again at every delivery, where the connection goes to the very address that was
/// checked (<see cref="ConnectAsync"/>), so a name that resolves elsewhere later (DNS rebinding) gains nothing.
/// </summary>
public sealed class WebhookTargets(IOptions<WebhookOptions> options)
{
    public const int UrlMaxLength = 500;

    /// <summary>Well-known metadata services that are not link-local (Alibaba Cloud's, AWS's IPv6 one).</summary>
    private static readonly IPAddress[] Metadata = [IPAddress.Parse("100.100.100.200"), IPAddress.Parse("fd00:ec2::254")];

    /// <summary>Why the URL is refused as a subscription's, or null. Its host name is resolved.</summary>
    public async Task<string?> ProblemAsync(string? url, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(url))
            return "Enter the URL to send events to.";
        if (url.Length > UrlMaxLength)
            return $"Use at most {UrlMaxLength} characters.";
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            return "Use an http:// or https:// URL.";
        if (uri.UserInfo.Length > 0)
            return "Leave user names and passwords out of the URL: deliveries are signed instead.";
        if (uri.Fragment.Length > 0)
            return "Leave the #fragment out of the URL.";
        IPAddress[] addresses;
        try
        {
            addresses = await ResolveAsync(uri.IdnHost, ct);
        }
        catch (SocketException)
        {
            return $"{uri.Host} does not resolve to an address.";
        }

        return addresses.Select(AddressProblem).FirstOrDefault(p => p is not null);
    }

    /// <summary>Why the portal may not connect to the address, or null.</summary>
    public string? AddressProblem(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IsLinkLocal(address) || Metadata.Contains(address))
            return $"{address} is a link-local or metadata address: webhooks cannot be sent there.";
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || IsMulticastOrReserved(address))
            return $"{address} is not an address webhooks can be sent to.";
        if ((IPAddress.IsLoopback(address) || IsPrivate(address)) && !options.Value.AllowPrivateTargets)
            return $"{address} is a private or loopback address: webhooks go to public addresses only.";
        return null;
    }

    /// <summary>
    /// The HTTP handler's connect step: resolves the host, refuses it when any of its addresses is refused, and connects
    /// to the first allowed one, so what is checked is what is reached.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var addresses = await ResolveAsync(endpoint.Host, ct);
        if (addresses.Select(AddressProblem).FirstOrDefault(p => p is not null) is { } problem)
            throw new WebhookTargetRefusedException(problem);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);

    private static bool IsLinkLocal(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal;
        var b = address.GetAddressBytes();
        return b[0] == 169 && b[1] == 254;
    }

    private static bool IsPrivate(IPAddress address)
    {
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return (b[0] & 0xfe) == 0xfc || address.IsIPv6SiteLocal;
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && (b[1] & 0xc0) == 64); // carrier-grade NAT, another operator's private space
    }

    private static bool IsMulticastOrReserved(IPAddress address)
    {
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6Multicast;
        return b[0] == 0 || b[0] >= 224;
    }
}

/// <summary>A delivery's target resolved to an address webhooks may not reach.</summary>
public sealed class WebhookTargetRefusedException : Exception
{
    public WebhookTargetRefusedException()
    {
    }

    public WebhookTargetRefusedException(string message)
        : base(message)
    {
    }

    public WebhookTargetRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
