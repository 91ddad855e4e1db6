using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// An RFB 3.8 server on a real TCP port, for the tests about the proxy's own rules: it answers the
/// handshake (security type None, a 64x48 desktop) and records every byte each client sends afterwards,
/// so a test sees exactly what the proxy let through.
/// </summary>
public sealed class RfbServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Channel<RfbServerClient> clients = Channel.CreateUnbounded<RfbServerClient>();
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;

    public RfbServer()
    {
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>The next client that finished the handshake.</summary>
    public async Task<RfbServerClient> NextClientAsync(CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        return await clients.Reader.ReadAsync(limit.Token);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var tcp = await listener.AcceptTcpClientAsync(stop.Token);
                _ = HandshakeAsync(tcp);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private async Task HandshakeAsync(TcpClient tcp)
    {
        try
        {
            var stream = tcp.GetStream();
            await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), stop.Token);
            var version = await ReadExactAsync(stream, 12, stop.Token);
            await stream.WriteAsync(new byte[] { 1, 1 }, stop.Token);
            var security = (await ReadExactAsync(stream, 1, stop.Token))[0];
            await stream.WriteAsync(new byte[4], stop.Token);
            var shared = (await ReadExactAsync(stream, 1, stop.Token))[0];
            var name = "rfb-test"u8.ToArray();
            var init = new byte[24 + name.Length];
            BinaryPrimitives.WriteUInt16BigEndian(init, 64);
            BinaryPrimitives.WriteUInt16BigEndian(init.AsSpan(2), 48);
            RfbClient.SetPixelFormat().AsSpan(4, 16).CopyTo(init.AsSpan(4));
            BinaryPrimitives.WriteUInt32BigEndian(init.AsSpan(20), (uint)name.Length);
            name.CopyTo(init, 24);
            await stream.WriteAsync(init, stop.Token);
            var client = new RfbServerClient(tcp, Encoding.ASCII.GetString(version), security, shared);
            await clients.Writer.WriteAsync(client, stop.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or EndOfStreamException)
        {
            tcp.Dispose();
        }
    }

    internal static async Task<byte[]> ReadExactAsync(NetworkStream stream, int count, CancellationToken ct)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, ct);
        return buffer;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}

/// <summary>One client of <see cref="RfbServer"/> after the handshake: what it sent since, and a way to answer.</summary>
public sealed class RfbServerClient(TcpClient tcp, string version, byte security, byte shared) : IDisposable
{
    private readonly NetworkStream stream = tcp.GetStream();
    private readonly List<byte> received = [];

    public string Version { get; } = version;

    public byte Security { get; } = security;

    /// <summary>ClientInit's shared flag as the server got it.</summary>
    public byte Shared { get; } = shared;

    /// <summary>Reads until the client has sent at least <paramref name="count"/> bytes after ClientInit; returns them all.</summary>
    public async Task<byte[]> ReceivedAsync(int count, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[4096];
        while (received.Count < count)
        {
            var n = await stream.ReadAsync(buffer, limit.Token);
            if (n == 0)
                throw new EndOfStreamException($"The proxy closed after {received.Count} of {count} bytes.");
            received.AddRange(buffer.AsSpan(0, n));
        }

        return [.. received];
    }

    /// <summary>Reads until the proxy closes the connection; true when it did within 30 s.</summary>
    public async Task<bool> ClosedAsync(CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, limit.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task SendAsync(byte[] data, CancellationToken ct) => await stream.WriteAsync(data, ct);

    public void Dispose() => tcp.Dispose();
}
