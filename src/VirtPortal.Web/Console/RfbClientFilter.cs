using System.Buffers;
using System.Buffers.Binary;

namespace VirtPortal.Web.Console;

/// <summary>The browser sent something the proxy does not understand: the session ends (fail closed).</summary>
public sealed class RfbProtocolException(string message) : Exception(message);

/// <summary>
/// Reads the RFB (VNC) stream a browser sends to the VM, message by message, however the websocket
/// frames cut it: the handshake (ProtocolVersion 3.7 or 3.8, the security type None or VNC
/// authentication, ClientInit), then the client messages of RFC 6143 and the extensions noVNC sends.
/// It tells input (keys, pointer, clipboard, resizing the desktop, power requests) from the rest, drops
/// input while <see cref="ViewOnly"/>, and forces ClientInit's shared flag, so that opening a console never
/// disconnects another viewer of the same VM. A message it does not know ends the session: it could not
/// find where the next one starts.
/// </summary>
public sealed class RfbClientFilter(bool viewOnly)
{
    private enum Phase
    {
        Version,
        Security,
        VncAuthentication,
        ClientInit,
        Messages,
    }

    private const int MaxHead = 12;

    private readonly byte[] head = new byte[MaxHead];
    private Phase phase = Phase.Version;
    private int headLength;
    private long remaining;
    private bool passing;

    /// <summary>Whether input is dropped; revalidation may turn it on while the session runs (never off).</summary>
    public bool ViewOnly { get; set; } = viewOnly;

    /// <summary>Input messages the browser sent (dropped or not).</summary>
    public long InputMessages { get; private set; }

    /// <summary>Input messages dropped because the session is view-only.</summary>
    public long DroppedMessages { get; private set; }

    /// <summary>
    /// Takes the next bytes from the browser and writes what the VM should get to <paramref name="output"/>;
    /// returns whether they held input (the session is not idle).
    /// </summary>
    public bool Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var sawInput = false;
        while (input.Length > 0)
        {
            if (remaining > 0)
            {
                var n = (int)Math.Min(remaining, input.Length);
                if (passing)
                    output.Write(input[..n]);
                input = input[n..];
                remaining -= n;
                continue;
            }

            head[headLength++] = input[0];
            input = input[1..];
            if (Length(head.AsSpan(0, headLength)) is not { } length)
            {
                if (headLength == MaxHead)
                    throw new RfbProtocolException("An RFB message header is longer than any the proxy knows.");
                continue;
            }

            sawInput |= Begin(length, output);
        }

        return sawInput;
    }

    /// <summary>A whole header is in <see cref="head"/>: decides the message's fate, writes the header if it passes.</summary>
    private bool Begin(long length, IBufferWriter<byte> output)
    {
        var header = head.AsSpan(0, headLength);
        var input = false;
        switch (phase)
        {
            case Phase.Version:
                phase = header.SequenceEqual("RFB 003.008\n"u8) || header.SequenceEqual("RFB 003.007\n"u8)
                    ? Phase.Security
                    : throw new RfbProtocolException("The console client speaks an RFB version other than 3.7 or 3.8.");
                break;
            case Phase.Security:
                phase = header[0] switch
                {
                    1 => Phase.ClientInit,
                    2 => Phase.VncAuthentication,
                    _ => throw new RfbProtocolException($"The console client chose RFB security type {header[0]}, which the proxy cannot follow."),
                };
                break;
            case Phase.VncAuthentication:
                phase = Phase.ClientInit;
                break;
            case Phase.ClientInit:
                header[0] = 1;
                phase = Phase.Messages;
                break;
            default:
                input = IsInput(header);
                if (input)
                    InputMessages++;
                break;
        }

        passing = !(input && ViewOnly);
        if (!passing)
            DroppedMessages++;
        else
            output.Write(header);
        remaining = length - headLength;
        headLength = 0;
        return input;
    }

    /// <summary>The length of the message that starts with <paramref name="header"/>, or null until the header says.</summary>
    private long? Length(ReadOnlySpan<byte> header) => phase switch
    {
        Phase.Version => header.Length < 12 ? null : 12,
        Phase.Security or Phase.ClientInit => 1,
        Phase.VncAuthentication => 16,
        _ => MessageLength(header),
    };

    private static long? MessageLength(ReadOnlySpan<byte> h) => h[0] switch
    {
        0 => 20,                                                                           // SetPixelFormat
        2 => h.Length < 4 ? null : 4 + (4L * BinaryPrimitives.ReadUInt16BigEndian(h[2..])), // SetEncodings
        3 => 10,                                                                           // FramebufferUpdateRequest
        4 => 8,                                                                            // KeyEvent
        5 => h.Length < 2 ? null : (h[1] & 0x80) != 0 ? 7 : 6,                            // PointerEvent (marker bit: extended mouse buttons, one byte more)
        6 => h.Length < 8 ? null : 8 + Math.Abs((long)BinaryPrimitives.ReadInt32BigEndian(h[4..])), // ClientCutText (negative: extended clipboard)
        150 => 10,                                                                         // EnableContinuousUpdates
        248 => h.Length < 9 ? null : h[8] <= 64 ? 9 + h[8] : throw new RfbProtocolException("A fence message is longer than RFB allows."), // ClientFence
        250 => 4,                                                                          // xvp (power requests)
        251 => h.Length < 8 ? null : 8 + (16L * h[6]),                                     // SetDesktopSize
        255 => h.Length < 2 ? null : h[1] switch                                           // QEMU client messages
        {
            0 => 12,                                                                       // extended key event
            1 => h.Length < 4 ? null : BinaryPrimitives.ReadUInt16BigEndian(h[2..]) switch // audio
            {
                0 or 1 => 4,                                                               // enable, disable
                2 => 10,                                                                   // set format
                var op => throw new RfbProtocolException($"QEMU audio operation {op} is not one the proxy knows."),
            },
            var sub => throw new RfbProtocolException($"QEMU client message {sub} is not one the proxy knows."),
        },
        var type => throw new RfbProtocolException($"RFB client message type {type} is not one the proxy knows."),
    };

    /// <summary>What a viewer must not send: keys, pointer, clipboard, desktop size and power requests.</summary>
    private static bool IsInput(ReadOnlySpan<byte> h) => h[0] switch
    {
        4 or 5 or 6 or 250 or 251 => true,
        255 => h[1] == 0,
        _ => false,
    };
}
