using System.Text;
using System.Text.Unicode;

namespace Realtime.Protocol;

/// <summary>
/// Decodes binary frames (<see cref="FrameReader.ReadBinary"/>): <c>[0x01][typeLength][type][payload]</c>, and from a server that sends
/// room positions <c>[0x02][posLength][pos][typeLength][type][payload]</c>.
/// </summary>
internal static class BinaryFrameReader
{
    /// <summary>Decodes a binary frame.</summary>
    public static Frame Read(ReadOnlySpan<byte> bytes)
    {
        string? position = null;
        if (bytes.Length >= 2 && bytes[0] == ProtocolLimits.PositionedBinaryMarker)
        {
            int positionLength = bytes[1];
            if (bytes.Length < 2 + positionLength + 1)
            {
                throw new ProtocolException(CloseCodes.ProtocolError, "The binary frame header is truncated.");
            }

            ReadOnlySpan<byte> positionBytes = bytes.Slice(2, positionLength);
            if (!Utf8.IsValid(positionBytes))
            {
                throw FrameReader.Invalid("The binary frame's position is not valid UTF-8.");
            }

            position = Encoding.UTF8.GetString(positionBytes);
            bytes = bytes[(1 + positionLength)..]; // now [typeLength][type][payload] behind one byte, as in a 0x01 frame
            return ReadMessage(bytes, position);
        }

        if (bytes.Length < 2 || bytes[0] != ProtocolLimits.BinaryMessageMarker)
        {
            throw new ProtocolException(CloseCodes.ProtocolError,
                bytes.Length == 0 ? "The binary frame is empty." :
                bytes[0] != ProtocolLimits.BinaryMessageMarker ? "The binary frame does not start with 0x01." : "The binary frame header is truncated.");
        }

        return ReadMessage(bytes, position);
    }

    /// <summary>Decodes a binary frame as a server reads what a client sent: only <c>[0x01]…</c> (a client never sends a position).</summary>
    public static Frame ReadFromClient(ReadOnlySpan<byte> bytes)
        => bytes.Length > 0 && bytes[0] == ProtocolLimits.PositionedBinaryMarker
            ? throw new ProtocolException(CloseCodes.ProtocolError, "The binary frame does not start with 0x01.")
            : Read(bytes);

    /// <summary>The message of a binary frame from its second byte on (<c>typeLength</c>); <paramref name="bytes"/>[0] is the marker's place.</summary>
    private static Frame ReadMessage(ReadOnlySpan<byte> bytes, string? position)
    {
        int typeLength = bytes[1];
        if (bytes.Length < 2 + typeLength)
        {
            throw new ProtocolException(CloseCodes.ProtocolError, "The binary frame header is truncated.");
        }

        ReadOnlySpan<byte> type = bytes.Slice(2, typeLength);
        if (!Utf8.IsValid(type))
        {
            throw FrameReader.Invalid("The binary frame's type is not valid UTF-8.");
        }

        string? typeText = typeLength == 0 ? null : Encoding.UTF8.GetString(type);
        return Frame.ForMessage(new Message(typeText, bytes[(2 + typeLength)..].ToArray()), position: position);
    }
}
