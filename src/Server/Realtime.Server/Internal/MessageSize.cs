using System.Runtime.CompilerServices;
using System.Text.Json;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Internal.Protocols;

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

    /// <summary>Refuses a frame larger than its protocol's clients accept.</summary>
    /// <param name="frame">The frame.</param>
    /// <param name="protocol">Its protocol.</param>
    /// <param name="maxBytes">The limit of a protocol v1 frame; the protocol's own is <see cref="RealtimeProtocol.FrameLimit"/>.</param>
    /// <exception cref="ArgumentException">The frame is too large.</exception>
    public static void EnsureFits(OutboundFrame frame, RealtimeProtocol protocol, long maxBytes)
    {
        if (frame.Bytes.Length > protocol.FrameLimit(maxBytes))
        {
            throw new ArgumentException(TooLarge(frame.Bytes.Length, maxBytes), "data");
        }
    }

    /// <summary>A message in one protocol: its frame, or why that protocol cannot send it (too large, or a type it cannot carry).</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="message">The message.</param>
    /// <param name="maxBytes">The limit of a protocol v1 frame; the protocol's own is <see cref="RealtimeProtocol.FrameLimit"/>.</param>
    public static EncodedMessage Encode(RealtimeProtocol protocol, in Message message, long maxBytes)
    {
        if (protocol.CannotCarry(message) is { } problem)
        {
            return new EncodingRefused(problem, tooLarge: false);
        }

        OutboundFrame frame = protocol.EncodeMessage(message);
        return frame.Bytes.Length > protocol.FrameLimit(maxBytes)
            ? new EncodingRefused(TooLarge(frame.Bytes.Length, maxBytes), tooLarge: true)
            : new EncodedMessage(frame);
    }

    /// <summary>
    /// The check at the call (<c>Broadcast</c>, <c>SendAsync</c>), the same whatever the room holds and whatever the backplane: the
    /// message is judged in the first of <paramref name="protocols"/> that can carry its type (protocol v1, unless its type is one v1
    /// cannot carry), and refused when its frame there is larger than clients accept, or when no protocol can carry it. A message well
    /// within the limit is not encoded to be measured. A protocol that cannot send it later skips its members (logged).
    /// </summary>
    /// <param name="protocols">The protocols, the reference first.</param>
    /// <param name="message">The message.</param>
    /// <param name="maxBytes">The limit of a protocol v1 frame.</param>
    /// <param name="state">What <paramref name="encode"/> needs.</param>
    /// <param name="encode">Encodes the message in a protocol (a broadcast keeps what it encodes).</param>
    /// <exception cref="ArgumentException">The message is too large, or no protocol can carry it.</exception>
    public static void EnsureSendable<TState>(ReadOnlySpan<RealtimeProtocol> protocols, in Message message, long maxBytes, TState state,
                                              Func<RealtimeProtocol, TState, EncodedMessage> encode)
    {
        string? problem = null;
        foreach (RealtimeProtocol protocol in protocols)
        {
            if (protocol.CannotCarry(message) is { } cannot)
            {
                problem ??= cannot;
                continue;
            }

            if (protocol.MaxEncodedLength(message) <= protocol.FrameLimit(maxBytes))
            {
                return;
            }

            EncodedMessage encoded = encode(protocol, state);
            if (encoded.Problem is null)
            {
                return;
            }

            throw new ArgumentException(encoded.Problem, "data");
        }

        throw new ArgumentException(problem ?? "No wire protocol can send this message.", "data");
    }

    private static string TooLarge(int length, long maxBytes)
        => $"The message encodes to {length} bytes, more than clients accept: Realtime:MaxMessageSize ({maxBytes - ProtocolLimits.EnvelopeAllowance}) " +
           $"+ {ProtocolLimits.EnvelopeAllowance} bytes. Send less, or raise RealtimeOptions.MaxMessageSize (clients learn it from welcome).";

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

/// <summary>A message encoded in one protocol: its <see cref="Frame"/> (kept by a broadcast and shared by every member of that protocol).</summary>
/// <param name="frame">The bytes.</param>
internal class EncodedMessage(OutboundFrame frame)
{
    public OutboundFrame Frame { get; } = frame;

    /// <summary>Why the protocol cannot send the message, or <see langword="null"/> when <see cref="Frame"/> is it.</summary>
    public virtual string? Problem => null;

    /// <summary>Whether the problem is the frame's size (not a type the protocol cannot carry).</summary>
    public virtual bool TooLarge => false;
}

/// <summary>A message one protocol cannot send (apart from <see cref="EncodedMessage"/>, so a frame that could be sent costs no more).</summary>
/// <param name="problem">Why.</param>
/// <param name="tooLarge">Whether it is the frame's size.</param>
internal sealed class EncodingRefused(string problem, bool tooLarge) : EncodedMessage(default)
{
    public override string? Problem { get; } = problem;

    public override bool TooLarge { get; } = tooLarge;
}
