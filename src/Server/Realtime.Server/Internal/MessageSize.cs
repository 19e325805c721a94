using System.Runtime.CompilerServices;
using System.Text.Json;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Server.Internal;

/// <summary>
/// Turns what application code passes to <c>Send</c>/<c>Broadcast</c> into a protocol-neutral <see cref="Message"/>, and refuses an
/// encoded message larger than clients accept (<c>maxMessageSize</c> + 1 KiB, protocol.md §4): sent anyway, it would close every
/// recipient with 1009.
/// </summary>
internal static class MessageSize
{
    /// <summary>The largest encoded application frame clients accept.</summary>
    public static long Limit(RealtimeOptions options) => (long)options.MaxMessageSize + ProtocolLimits.EnvelopeAllowance;

    /// <exception cref="ArgumentException">The frame is larger than <paramref name="maxBytes"/>.</exception>
    public static void EnsureFits(OutboundFrame frame, long maxBytes)
    {
        if (frame.Bytes.Length > maxBytes)
        {
            throw new ArgumentException(
                $"The message encodes to {frame.Bytes.Length} bytes, more than clients accept: Realtime:MaxMessageSize ({maxBytes - ProtocolLimits.EnvelopeAllowance}) " +
                $"+ {ProtocolLimits.EnvelopeAllowance} bytes. Send less, or raise RealtimeOptions.MaxMessageSize (clients learn it from welcome).",
                "data");
        }
    }

    /// <summary>
    /// The payload as a <see cref="Message"/>: a <see cref="Message"/> (with <paramref name="type"/> replacing its own when given),
    /// a <see cref="JsonElement"/>, bytes (copied when <paramref name="copyBytes"/>, since a broadcast may be encoded after the call
    /// returns), or anything else serialized with <paramref name="options"/>.
    /// </summary>
    public static Message ToMessage<T>(T data, string? type, JsonSerializerOptions options, bool copyBytes)
    {
        // typeof(T) checks are folded by the JIT for value types, so the common payloads are not boxed.
        if (typeof(T) == typeof(Message))
        {
            Message message = Unsafe.As<T, Message>(ref data);
            return type is null ? message : message.WithType(type);
        }

        if (typeof(T) == typeof(JsonElement))
        {
            return new Message(type, Unsafe.As<T, JsonElement>(ref data));
        }

        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            ReadOnlyMemory<byte> memory = Unsafe.As<T, ReadOnlyMemory<byte>>(ref data);
            return new Message(type, copyBytes ? memory.ToArray() : memory);
        }

        if (typeof(T) == typeof(Memory<byte>))
        {
            Memory<byte> memory = Unsafe.As<T, Memory<byte>>(ref data);
            return new Message(type, copyBytes ? memory.ToArray() : memory);
        }

        return data switch
        {
            byte[] bytes => new Message(type, copyBytes ? bytes.AsSpan().ToArray() : bytes),
            Message boxed => type is null ? boxed : boxed.WithType(type),
            JsonElement element => new Message(type, element),
            _ => new Message(type, JsonSerializer.SerializeToElement(data, options)),
        };
    }
}
