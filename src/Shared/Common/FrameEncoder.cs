using System.Buffers;
using System.Text.Json;
using Realtime.Protocol;

namespace Realtime.Internal;

/// <summary>Encodes one frame into an exact-size array that outbound queues can share.</summary>
internal static class FrameEncoder
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static OutboundFrame EncodeMessage<T>(T data, string? type, JsonSerializerOptions options)
    {
        ArrayBufferWriter<byte> buffer = Rent();
        bool binary = FrameWriter.WriteMessage(buffer, data, type, options);
        return new OutboundFrame(buffer.WrittenSpan.ToArray(), binary);
    }

    /// <summary>An application message that carries a W3C trace context (a text frame only: a binary one has no room for it).</summary>
    public static OutboundFrame EncodeMessage<T>(T data, string? type, JsonSerializerOptions options, string? traceParent, string? traceState)
    {
        ArrayBufferWriter<byte> buffer = Rent();
        bool binary = FrameWriter.WriteMessage(buffer, data, type, options, traceParent, traceState);
        return new OutboundFrame(buffer.WrittenSpan.ToArray(), binary);
    }

    public static OutboundFrame Encode<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        ArrayBufferWriter<byte> buffer = Rent();
        write(buffer, state);
        return new OutboundFrame(buffer.WrittenSpan.ToArray(), IsBinary: false);
    }

    private static ArrayBufferWriter<byte> Rent()
    {
        ArrayBufferWriter<byte> buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);

        // Do not let one huge frame pin a huge buffer to this thread forever.
        if (buffer.Capacity > 256 * 1024)
        {
            t_buffer = buffer = new ArrayBufferWriter<byte>(4096);
        }

        buffer.ResetWrittenCount();
        return buffer;
    }
}
