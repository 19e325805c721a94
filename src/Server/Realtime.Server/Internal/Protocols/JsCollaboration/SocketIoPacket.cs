namespace Realtime.Server.Internal.Protocols.JsCollaboration;

/// <summary>Engine.IO v4 packet types: the first character of every text WebSocket message.</summary>
internal enum EnginePacketType : byte
{
    Open = (byte)'0',
    Close = (byte)'1',
    Ping = (byte)'2',
    Pong = (byte)'3',
    Message = (byte)'4',
    Upgrade = (byte)'5',
    Noop = (byte)'6',
}

/// <summary>Socket.IO v5 packet types: the first character after an Engine.IO message packet's <c>4</c>.</summary>
internal enum SocketIoPacketType : byte
{
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// <summary>
/// One Socket.IO v5 packet, as text: <c>&lt;type&gt;[&lt;attachments&gt;-][&lt;namespace&gt;,][&lt;ack id&gt;][JSON payload]</c>.
/// The parts are slices of the received bytes; nothing is copied or parsed beyond the header.
/// </summary>
internal readonly ref struct SocketIoPacket(SocketIoPacketType type, int attachments, ReadOnlySpan<byte> nameSpace, long ackId, ReadOnlySpan<byte> payload)
{
    /// <summary>The largest attachment count accepted; the original client sends one placeholder per binary argument.</summary>
    public const int MaxAttachments = 16;

    public SocketIoPacketType Type { get; } = type;

    /// <summary>Binary attachments that follow as separate WebSocket messages (binary packets only).</summary>
    public int Attachments { get; } = attachments;

    /// <summary>The namespace; <c>/</c> when the packet names none.</summary>
    public ReadOnlySpan<byte> Namespace { get; } = nameSpace;

    /// <summary>The acknowledgement id; -1 when there is none.</summary>
    public long AckId { get; } = ackId;

    /// <summary>The JSON payload, possibly empty.</summary>
    public ReadOnlySpan<byte> Payload { get; } = payload;

    /// <summary>Reads a packet from the text after the Engine.IO <c>4</c>.</summary>
    /// <returns><see langword="false"/> with the reason when the header is malformed.</returns>
    public static bool TryParse(ReadOnlySpan<byte> text, out SocketIoPacket packet, out string? problem)
    {
        packet = default;
        if (text.IsEmpty || text[0] < (byte)'0' || text[0] > (byte)'6')
        {
            problem = "Unknown Socket.IO packet type.";
            return false;
        }

        var type = (SocketIoPacketType)(text[0] - '0');
        int at = 1;
        int attachments = 0;
        if (type is SocketIoPacketType.BinaryEvent or SocketIoPacketType.BinaryAck)
        {
            int dash = text[at..].IndexOf((byte)'-');
            if (dash <= 0 || !TryReadNumber(text.Slice(at, dash), MaxAttachments, out long count))
            {
                problem = "A binary packet without a valid attachment count.";
                return false;
            }

            attachments = (int)count;
            at += dash + 1;
        }

        ReadOnlySpan<byte> nameSpace = "/"u8;
        if (at < text.Length && text[at] == (byte)'/')
        {
            int comma = text[at..].IndexOf((byte)',');
            int end = comma < 0 ? text.Length - at : comma;
            nameSpace = text.Slice(at, end);
            at += comma < 0 ? end : end + 1;
        }

        long ackId = -1;
        int digits = 0;
        while (at + digits < text.Length && text[at + digits] is >= (byte)'0' and <= (byte)'9')
        {
            digits++;
        }

        if (digits > 0)
        {
            if (!TryReadNumber(text.Slice(at, digits), int.MaxValue, out ackId))
            {
                problem = "An acknowledgement id out of range.";
                return false;
            }

            at += digits;
        }

        packet = new SocketIoPacket(type, attachments, nameSpace, ackId, text[at..]);
        problem = null;
        return true;
    }

    private static bool TryReadNumber(ReadOnlySpan<byte> digits, long max, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 10)
        {
            return false;
        }

        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (digit - '0');
        }

        return value <= max;
    }
}
