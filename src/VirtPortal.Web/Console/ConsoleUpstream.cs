using System.Net.Sockets;
using System.Net.WebSockets;
using VirtPortal.Core.Provisioning;

namespace VirtPortal.Web.Console;

/// <summary>
/// The proxy's connection to a VM's VNC server: QEMU's own websocket (path "/", subprotocol "binary")
/// when the host offers one, else the plain TCP port. Either way a byte stream.
/// </summary>
public abstract class ConsoleUpstream : IAsyncDisposable
{
    /// <summary>"websocket" or "tcp", for the audit log.</summary>
    public abstract string Kind { get; }

    /// <summary>The next bytes from the VM; 0 when its side closed.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct);

    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct);

    public abstract ValueTask DisposeAsync();

    /// <summary>Connects to <paramref name="endpoint"/> within <paramref name="timeout"/>.</summary>
    public static async Task<ConsoleUpstream> ConnectAsync(ConsoleEndpoint endpoint, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        if (endpoint.WebSocketPort is { } port)
        {
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol("binary");
            try
            {
                await socket.ConnectAsync(new UriBuilder("ws", endpoint.Host, port, "/").Uri, limit.Token);
                return new WebSocketUpstream(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, limit.Token);
            return new TcpUpstream(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private sealed class WebSocketUpstream(ClientWebSocket socket) : ConsoleUpstream
    {
        public override string Kind => "websocket";

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct)
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close)
                    return 0;
                if (result.Count > 0)
                    return result.Count;
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct) =>
            socket.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, ct);

        public override ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class TcpUpstream(TcpClient client) : ConsoleUpstream
    {
        private readonly NetworkStream stream = client.GetStream();

        public override string Kind => "tcp";

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct) => stream.ReadAsync(buffer, ct);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct) => stream.WriteAsync(data, ct);

        public override async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            client.Dispose();
        }
    }
}
