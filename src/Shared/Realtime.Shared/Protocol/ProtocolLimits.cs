namespace Realtime.Protocol;

/// <summary>Fixed limits and names of protocol v1.</summary>
public static class ProtocolLimits
{
    /// <summary>The WebSocket subprotocol of v1: <c>realtime.v1</c> (case-sensitive).</summary>
    public const string SubProtocol = "realtime.v1";

    /// <summary>The longest message type a v1 frame carries, in bytes of UTF-8: 255 (a <see cref="Message"/> itself takes any length).</summary>
    public const int MaxTypeLength = 255;

    /// <summary>The default largest message a client may send, in bytes: 1 MiB.</summary>
    public const int DefaultMaxMessageSize = 1024 * 1024;

    /// <summary>How much larger than <c>maxMessageSize</c> a server frame may be (the envelope around relayed data), in bytes: 1 KiB.</summary>
    public const int EnvelopeAllowance = 1024;

    /// <summary>The first byte of every binary frame: 0x01.</summary>
    public const byte BinaryMessageMarker = 0x01;

    /// <summary>The first byte of a binary frame that carries a room position (docs/protocol.md §3.1): 0x02. Servers send it only to clients that asked.</summary>
    public const byte PositionedBinaryMarker = 0x02;

    /// <summary>The longest room position (<c>pos</c>), in bytes of UTF-8: 255 (it fits the one-byte length of a positioned binary frame).</summary>
    public const int MaxPositionLength = 255;

    /// <summary>The longest resume token (<c>resume</c>), in bytes of UTF-8: 256.</summary>
    public const int MaxResumeTokenLength = 256;

    /// <summary>Whether a message type fits a v1 frame: at most <see cref="MaxTypeLength"/> bytes of UTF-8.</summary>
    internal static bool TypeFits(string type)
        => type.Length <= MaxTypeLength / 3 || System.Text.Encoding.UTF8.GetByteCount(type) <= MaxTypeLength; // a UTF-16 unit is at most 3 bytes

    /// <summary>Why a v1 frame cannot carry <paramref name="type"/>, or <see langword="null"/> when it can.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="binary">Whether the frame is binary (it cannot carry <c>""</c>: its typeLength 0 means no type).</param>
    internal static string? TypeProblem(string? type, bool binary)
    {
        if (type is null)
        {
            return null;
        }

        if (!TypeFits(type))
        {
            return $"A message type is at most {MaxTypeLength} bytes of UTF-8 in protocol v1; this one is {System.Text.Encoding.UTF8.GetByteCount(type)}. " +
                   "(The compatibility endpoint, MapJsCollaboration, carries longer types.)";
        }

        return binary && type.Length == 0
            ? "A binary message cannot have the type \"\" in protocol v1: a binary frame's typeLength 0 means no type. Use null for none, or send the data as JSON."
            : null;
    }
}
