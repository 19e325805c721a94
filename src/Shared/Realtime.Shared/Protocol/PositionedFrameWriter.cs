using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Realtime.Protocol;

/// <summary>Writes a room broadcast with its room position (<see cref="FrameWriter.WritePositionedMessage"/>, docs/protocol.md §3.1).</summary>
internal static class PositionedFrameWriter
{
    /// <summary>Writes the frame; see <see cref="FrameWriter.WritePositionedMessage"/>.</summary>
    public static bool Write(IBufferWriter<byte> output, Message message, string position)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(position);
        int positionLength = Encoding.UTF8.GetByteCount(position);
        if (positionLength > ProtocolLimits.MaxPositionLength)
        {
            throw new ArgumentException($"A room position is at most {ProtocolLimits.MaxPositionLength} bytes of UTF-8.", nameof(position));
        }

        if (!message.IsBinary)
        {
            FrameWriter.CheckType(message.Type, binary: false);
            Utf8JsonWriter w = FrameWriter.Start(output, "msg"u8);
            if (message.Type is not null)
            {
                w.WriteString("type"u8, message.Type);
            }

            ReadOnlySpan<byte> data = message.DataUtf8;
            if (!data.IsEmpty)
            {
                w.WritePropertyName("data"u8);
                w.WriteRawValue(data, skipInputValidation: true);
            }

            w.WriteString("pos"u8, position);
            FrameWriter.End(w);
            return false;
        }

        string? type = message.Type;
        FrameWriter.CheckType(type, binary: true);
        int typeLength = type is null ? 0 : Encoding.UTF8.GetByteCount(type);
        ReadOnlySpan<byte> payload = message.Bytes.Span;
        int length = 3 + positionLength + typeLength + payload.Length;
        Span<byte> span = output.GetSpan(length);
        span[0] = ProtocolLimits.PositionedBinaryMarker;
        span[1] = (byte)positionLength;
        Encoding.UTF8.GetBytes(position, span[2..]);
        span[2 + positionLength] = (byte)typeLength;
        if (type is not null)
        {
            Encoding.UTF8.GetBytes(type, span[(3 + positionLength)..]);
        }

        payload.CopyTo(span[(3 + positionLength + typeLength)..]);
        output.Advance(length);
        return true;
    }
}
