using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The bytes of what travels between nodes: a room broadcast (origin node, excluded connection, message), or a send or close for
/// one connection. <c>[version][kind][flags]</c>, then length-prefixed UTF-8 strings, then the message's payload (its data's exact
/// JSON text, or its bytes): a message is never parsed on its way through Redis.
/// </summary>
internal static class BackplaneCodec
{
    public const byte Version = 1;

    public enum Kind : byte
    {
        Broadcast = 1,
        Send = 2,
        Close = 3,

        /// <summary>A node's probe of its own subscriber link.</summary>
        Probe = 4,

        /// <summary>A broadcast to one channel of a room (a feature's); its channel follows the message type. A node that predates it
        /// drops it as undecodable rather than deliver it to the whole room.</summary>
        ChannelBroadcast = 5,
    }

    [Flags]
    private enum Flags : byte
    {
        None = 0,
        Binary = 1,
    }

    public static byte[] EncodeBroadcast(RoomBroadcast broadcast)
        => broadcast.Channel is { } channel
            ? Encode(Kind.ChannelBroadcast, broadcast.OriginNodeId, broadcast.ExceptConnectionId, broadcast.Message, channel)
            : Encode(Kind.Broadcast, broadcast.OriginNodeId, broadcast.ExceptConnectionId, broadcast.Message);

    public static byte[] EncodeSend(string connectionId, Message message) => Encode(Kind.Send, connectionId, null, message);

    public static byte[] EncodeClose(string connectionId) => Encode(Kind.Close, connectionId, null, null);

    public static byte[] EncodeProbe(string nodeId) => Encode(Kind.Probe, nodeId, null, null);

    /// <summary>Reads a frame: its kind, its first string (origin node, or target connection), its second string, its message.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, out Kind kind, out string first, out string? second, out Message message)
        => TryDecode(frame, out kind, out first, out second, out message, out _);

    /// <summary>Reads a frame, with the channel of a <see cref="Kind.ChannelBroadcast"/>.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, out Kind kind, out string first, out string? second, out Message message, out string? channel)
    {
        channel = null;
        kind = default;
        first = string.Empty;
        second = null;
        message = default;
        if (frame.Length < 3 || frame[0] != Version)
        {
            return false;
        }

        kind = (Kind)frame[1];
        var flags = (Flags)frame[2];
        frame = frame[3..];
        if (!TryReadString(ref frame, out string? firstValue) || firstValue is null || !TryReadString(ref frame, out second) || !TryReadString(ref frame, out string? type))
        {
            return false;
        }

        first = firstValue;
        if (kind is Kind.Close or Kind.Probe)
        {
            return true;
        }

        if (kind == Kind.ChannelBroadcast && (!TryReadString(ref frame, out channel) || channel is null))
        {
            return false;
        }

        byte[] payload = frame.ToArray();
        message = (flags & Flags.Binary) != 0 ? new Message(type, (ReadOnlyMemory<byte>)payload) : new Message(type, new LazyJson(payload));
        return true;
    }

    /// <summary>Reads a room broadcast's frame (either kind) into the broadcast it carries, with its room position (or none).</summary>
    public static bool TryDecodeBroadcast(string roomId, ReadOnlySpan<byte> frame, RoomPosition? position, [NotNullWhen(true)] out RoomBroadcast? broadcast)
    {
        broadcast = null;
        if (!TryDecode(frame, out Kind kind, out string origin, out string? except, out Message decoded, out string? channel)
            || kind is not (Kind.Broadcast or Kind.ChannelBroadcast))
        {
            return false;
        }

        broadcast = new RoomBroadcast(roomId, decoded, except, origin, channel) { Position = position };
        return true;
    }

    private static byte[] Encode(Kind kind, string first, string? second, Message? message, string? channel = null)
    {
        var output = new ArrayBufferWriter<byte>(256);
        Message m = message ?? default;
        output.Write([Version, (byte)kind, (byte)(m.IsBinary ? Flags.Binary : Flags.None)]);
        WriteString(output, first);
        WriteString(output, second);
        WriteString(output, message is null ? null : m.Type);
        if (channel is not null)
        {
            WriteString(output, channel);
        }

        if (message is not null)
        {
            ReadOnlySpan<byte> payload = m.IsBinary ? m.Bytes.Span : m.DataUtf8;
            output.Write(payload.IsEmpty && !m.IsBinary ? "null"u8 : payload);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>A 4-byte length (-1 for null) and the UTF-8 bytes.</summary>
    private static void WriteString(ArrayBufferWriter<byte> output, string? value)
    {
        Span<byte> length = output.GetSpan(4);
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(length, -1);
            output.Advance(4);
            return;
        }

        int count = Encoding.UTF8.GetByteCount(value);
        BinaryPrimitives.WriteInt32LittleEndian(length, count);
        output.Advance(4);
        Encoding.UTF8.GetBytes(value, output.GetSpan(count));
        output.Advance(count);
    }

    private static bool TryReadString(ref ReadOnlySpan<byte> frame, out string? value)
    {
        value = null;
        if (frame.Length < 4)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(frame);
        frame = frame[4..];
        if (length < 0)
        {
            return length == -1;
        }

        if (length > frame.Length)
        {
            return false;
        }

        value = Encoding.UTF8.GetString(frame[..length]);
        frame = frame[length..];
        return true;
    }
}
