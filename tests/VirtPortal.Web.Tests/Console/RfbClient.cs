using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace VirtPortal.Web.Tests.Console;

/// <summary>
/// A small RFB 3.8 client over a websocket (the portal's console proxy, or QEMU's own VNC websocket):
/// the handshake with security type None, the client messages noVNC sends, and a framebuffer kept from
/// Raw-encoded updates at 32 bits per pixel. Used by the console tests and by bench/VirtPortal.ConsoleBench.
/// </summary>
public sealed class RfbClient(WebSocket socket) : IAsyncDisposable
{
    public const uint KeysymA = 0x61;
    public const uint KeysymBackspace = 0xff08;
    public const uint KeysymReturn = 0xff0d;

    private readonly byte[] receiveBuffer = new byte[64 * 1024];
    private int bufferStart;
    private int bufferEnd;

    public WebSocket Socket { get; } = socket;

    public int Width { get; private set; }

    public int Height { get; private set; }

    public string DesktopName { get; private set; } = "";

    /// <summary>The screen as the updates received so far paint it, 4 bytes per pixel (blue, green, red, unused).</summary>
    public byte[] Framebuffer { get; private set; } = [];

    /// <summary>The server's version line and the client's answer, the security handshake and ClientInit/ServerInit.</summary>
    public Task HandshakeAsync(CancellationToken ct) => HandshakeAsync(shared: true, ct);

    /// <summary>The handshake, asking for a shared (true) or exclusive (false) desktop in ClientInit.</summary>
    public async Task HandshakeAsync(bool shared, CancellationToken ct)
    {
        var version = Encoding.ASCII.GetString(await ReadExactAsync(12, ct));
        if (!version.StartsWith("RFB 003.", StringComparison.Ordinal))
            throw new InvalidDataException($"Not an RFB server: '{version}'.");
        await SendAsync("RFB 003.008\n"u8.ToArray(), ct);
        var count = (await ReadExactAsync(1, ct))[0];
        if (count == 0)
            throw new InvalidDataException("The server refused the connection.");
        var types = await ReadExactAsync(count, ct);
        if (!types.Contains((byte)1))
            throw new InvalidDataException($"The server offers no security type None ({string.Join(",", types)}).");
        await SendAsync([1], ct);
        var result = BinaryPrimitives.ReadUInt32BigEndian(await ReadExactAsync(4, ct));
        if (result != 0)
            throw new InvalidDataException($"Security handshake failed ({result}).");
        await SendAsync([shared ? (byte)1 : (byte)0], ct);
        var init = await ReadExactAsync(24, ct);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init);
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        var nameLength = (int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20));
        DesktopName = Encoding.UTF8.GetString(await ReadExactAsync(nameLength, ct));
        Framebuffer = new byte[Width * Height * 4];
    }

    /// <summary>32 bits per pixel, true colour, and Raw encoding only, so that every update is easy to paint.</summary>
    public async Task UseRawTrueColourAsync(CancellationToken ct)
    {
        await SendAsync(SetPixelFormat(), ct);
        await SendAsync(SetEncodings(0), ct);
    }

    public Task SendAsync(byte[] message, CancellationToken ct) =>
        Socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, ct);

    /// <summary>Presses and releases a key.</summary>
    public Task TypeAsync(uint keysym, CancellationToken ct) => SendAsync([.. KeyEvent(true, keysym), .. KeyEvent(false, keysym)], ct);

    public const uint KeysymShift = 0xffe1;

    /// <summary>
    /// Types each character of <paramref name="text"/> (ASCII; '\n' is Return), holding Shift for the
    /// characters a US keyboard shifts, as a browser's key events do.
    /// </summary>
    public async Task TypeTextAsync(string text, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
        {
            if (c == '\n')
                await TypeAsync(KeysymReturn, ct);
            else if (char.IsAsciiLetterUpper(c) || "~!@#$%^&*()_+{}|:\"<>?".Contains(c, StringComparison.Ordinal))
                await SendAsync([.. KeyEvent(true, KeysymShift), .. KeyEvent(true, c), .. KeyEvent(false, c), .. KeyEvent(false, KeysymShift)], ct);
            else
                await TypeAsync(c, ct);
        }
    }

    /// <summary>
    /// Reads the next server message; a FramebufferUpdate is painted into <see cref="Framebuffer"/> and
    /// returns the number of pixels it changed. Other messages (bell, cut text, colour map) return 0.
    /// </summary>
    public async Task<(byte Type, int ChangedPixels)> ReadMessageAsync(CancellationToken ct)
    {
        var type = (await ReadExactAsync(1, ct))[0];
        switch (type)
        {
            case 0:
                var header = await ReadExactAsync(3, ct);
                var rectangles = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
                var changed = 0;
                for (var i = 0; i < rectangles; i++)
                    changed += await ReadRectangleAsync(ct);
                return (type, changed);
            case 1:
                var colours = await ReadExactAsync(5, ct);
                await ReadExactAsync(6 * BinaryPrimitives.ReadUInt16BigEndian(colours.AsSpan(3)), ct);
                return (type, 0);
            case 2:
                return (type, 0);
            case 3:
                var cut = await ReadExactAsync(7, ct);
                await ReadExactAsync(Math.Abs(BinaryPrimitives.ReadInt32BigEndian(cut.AsSpan(3))), ct);
                return (type, 0);
            default:
                throw new InvalidDataException($"Server message type {type} is not one this client reads.");
        }
    }

    /// <summary>Asks for updates and reads messages until one changes at least one pixel; returns how many it changed.</summary>
    public async Task<int> WaitForChangeAsync(CancellationToken ct)
    {
        await RequestUpdateAsync(ct);
        return await ReadChangeAsync(ct);
    }

    /// <summary>An incremental update request for the whole screen: the server answers when something changed.</summary>
    public Task RequestUpdateAsync(CancellationToken ct) =>
        SendAsync(FramebufferUpdateRequest(incremental: true, 0, 0, (ushort)Width, (ushort)Height), ct);

    /// <summary>
    /// With an update request outstanding, reads messages until an update changes at least one pixel,
    /// asking again after each that changed none (as noVNC does); returns how many pixels it changed.
    /// </summary>
    public async Task<int> ReadChangeAsync(CancellationToken ct)
    {
        while (true)
        {
            var (type, changed) = await ReadMessageAsync(ct);
            if (changed > 0)
                return changed;
            if (type == 0)
                await RequestUpdateAsync(ct);
        }
    }

    /// <summary>Asks for the whole screen once and paints it.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await SendAsync(FramebufferUpdateRequest(incremental: false, 0, 0, (ushort)Width, (ushort)Height), ct);
        while ((await ReadMessageAsync(ct)).Type != 0)
        {
        }
    }

    /// <summary>How many pixels are not black: a screen with text on it, not a blank one.</summary>
    public int LitPixels()
    {
        var lit = 0;
        for (var i = 0; i + 3 < Framebuffer.Length; i += 4)
        {
            if (Framebuffer[i] > 32 || Framebuffer[i + 1] > 32 || Framebuffer[i + 2] > 32)
                lit++;
        }

        return lit;
    }

    public static byte[] SetPixelFormat()
    {
        var m = new byte[20];
        m[0] = 0;
        m[4] = 32;  // bits per pixel
        m[5] = 24;  // depth
        m[6] = 0;   // little endian
        m[7] = 1;   // true colour
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(8), 255);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(10), 255);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(12), 255);
        m[14] = 16; // red shift
        m[15] = 8;  // green shift
        m[16] = 0;  // blue shift
        return m;
    }

    public static byte[] SetEncodings(params int[] encodings)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        var m = new byte[4 + (4 * encodings.Length)];
        m[0] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)encodings.Length);
        for (var i = 0; i < encodings.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(4 + (4 * i)), encodings[i]);
        return m;
    }

    public static byte[] FramebufferUpdateRequest(bool incremental, ushort x, ushort y, ushort width, ushort height)
    {
        var m = new byte[10];
        m[0] = 3;
        m[1] = incremental ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), x);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), y);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(6), width);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(8), height);
        return m;
    }

    public static byte[] KeyEvent(bool down, uint keysym)
    {
        var m = new byte[8];
        m[0] = 4;
        m[1] = down ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), keysym);
        return m;
    }

    public static byte[] PointerEvent(byte buttons, ushort x, ushort y)
    {
        var m = new byte[6];
        m[0] = 5;
        m[1] = buttons;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), x);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), y);
        return m;
    }

    public static byte[] ClientCutText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.Latin1.GetBytes(text);
        var m = new byte[8 + bytes.Length];
        m[0] = 6;
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(4), bytes.Length);
        bytes.CopyTo(m, 8);
        return m;
    }

    /// <summary>QEMU's extended key event (client message 255, subtype 0): a keysym and its XT scancode.</summary>
    public static byte[] QemuExtendedKeyEvent(bool down, uint keysym, uint keycode)
    {
        var m = new byte[12];
        m[0] = 255;
        m[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), down ? (ushort)1 : (ushort)0);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), keysym);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(8), keycode);
        return m;
    }

    public async Task<byte[]> ReadExactAsync(int count, CancellationToken ct)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (bufferStart == bufferEnd)
            {
                var received = await Socket.ReceiveAsync(receiveBuffer, ct);
                if (received.MessageType == WebSocketMessageType.Close)
                    throw new EndOfStreamException($"The server closed the console ({received.CloseStatus} {received.CloseStatusDescription}).");
                bufferStart = 0;
                bufferEnd = received.Count;
                continue;
            }

            var n = Math.Min(count - filled, bufferEnd - bufferStart);
            Array.Copy(receiveBuffer, bufferStart, result, filled, n);
            bufferStart += n;
            filled += n;
        }

        return result;
    }

    /// <summary>A Raw rectangle painted into the framebuffer (other encodings were not asked for); the pixels it changed.</summary>
    private async Task<int> ReadRectangleAsync(CancellationToken ct)
    {
        var r = await ReadExactAsync(12, ct);
        int x = BinaryPrimitives.ReadUInt16BigEndian(r), y = BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(2));
        int w = BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(4)), h = BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(6));
        var encoding = BinaryPrimitives.ReadInt32BigEndian(r.AsSpan(8));
        if (encoding == -223)
        {
            // DesktopSize: the screen changed size; start a new framebuffer.
            Width = w;
            Height = h;
            Framebuffer = new byte[w * h * 4];
            return w * h;
        }

        if (encoding != 0)
            throw new InvalidDataException($"Rectangle encoding {encoding} was not asked for.");
        var pixels = await ReadExactAsync(w * h * 4, ct);
        var changed = 0;
        for (var row = 0; row < h; row++)
        {
            var target = (((y + row) * Width) + x) * 4;
            var source = row * w * 4;
            for (var i = 0; i < w * 4; i += 4)
            {
                if (!pixels.AsSpan(source + i, 4).SequenceEqual(Framebuffer.AsSpan(target + i, 4)))
                    changed++;
            }

            Array.Copy(pixels, source, Framebuffer, target, w * 4);
        }

        return changed;
    }

    public ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
