using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Realtime.Protocol;

/// <summary>
/// Decodes frames of protocol v1. Each WebSocket message carries exactly one frame, so the reader
/// takes one whole message; the transport enforces <c>maxMessageSize</c> before calling it.
/// </summary>
/// <remarks>
/// Every malformed input throws <see cref="ProtocolException"/> and nothing else, with close code
/// 1007 (cannot be decoded) or 1002 (a binary frame with a bad header). A text frame of an unknown
/// kind decodes as <see cref="FrameKind.Unknown"/>. A decoded frame owns its
/// data: it copies what it keeps, so the input buffer may be reused at once.
/// </remarks>
public static class FrameReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>Decodes a text frame (a UTF-8 JSON object with a string field <c>t</c>).</summary>
    /// <param name="utf8">The whole WebSocket text message.</param>
    /// <returns>The frame; <see cref="FrameKind.Unknown"/> when <c>t</c> is not a frame kind of v1.</returns>
    /// <exception cref="ProtocolException">1007 when it is not UTF-8, not JSON, not an object, <c>t</c> is missing or not a string,
    /// a known field has the wrong type, a field name or known string field holds an escaped lone surrogate, or <c>type</c> is over 255 bytes.</exception>
    public static Frame ReadText(ReadOnlySpan<byte> utf8) => ReadText(utf8, fromClient: false, traceContext: true);

    /// <summary>
    /// Decodes a text frame as a server reads what a client sent: like <see cref="ReadText(ReadOnlySpan{byte})"/>, except that a
    /// kind only servers send (<c>welcome</c>, <c>reject</c>, <c>error</c>, <c>ping</c>) decodes as that kind without its fields
    /// being checked, so that the server refuses it for what it is (1002), not for how it is written.
    /// </summary>
    /// <param name="utf8">The whole WebSocket text message.</param>
    /// <returns>The frame; for a server-only kind, only <see cref="Frame.Kind"/> is meaningful.</returns>
    /// <exception cref="ProtocolException">1007, as for <see cref="ReadText(ReadOnlySpan{byte})"/>.</exception>
    public static Frame ReadClientText(ReadOnlySpan<byte> utf8) => ReadText(utf8, fromClient: true, traceContext: true);

    /// <summary>
    /// Like <see cref="ReadClientText(ReadOnlySpan{byte})"/>; with <paramref name="traceContext"/> <see langword="false"/>, the
    /// <c>traceparent</c> and <c>tracestate</c> fields are skipped like unknown ones (a server that does not trace keeps nothing of them).
    /// </summary>
    internal static Frame ReadClientText(ReadOnlySpan<byte> utf8, bool traceContext) => ReadText(utf8, fromClient: true, traceContext);

    private static Frame ReadText(ReadOnlySpan<byte> utf8, bool fromClient, bool traceContext)
    {
        if (!Utf8.IsValid(utf8))
        {
            throw Invalid("The text frame is not valid UTF-8.");
        }

        var fields = new TextFields { ReadTrace = traceContext };
        try
        {
            var reader = new Utf8JsonReader(utf8, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid("The text frame is not a JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                ReadField(ref reader, utf8, ref fields);
            }

            if (reader.Read())
            {
                throw Invalid("The text frame has content after its JSON object.");
            }
        }
        catch (JsonException ex)
        {
            throw new ProtocolException(CloseCodes.InvalidPayload, "The text frame is not valid JSON.", ex);
        }
        catch (InvalidOperationException ex)
        {
            // Valid JSON grammar, but not text: a field name or known string field with an escaped lone surrogate ("\ud800").
            throw new ProtocolException(CloseCodes.InvalidPayload, "The text frame has a string with an unpaired surrogate escape.", ex);
        }

        return fields.ToFrame(fromClient);
    }

    /// <summary>
    /// Decodes a binary frame: <c>[0x01][typeLength][type][payload]</c>, or from a server that sends room positions (docs/protocol.md
    /// §3.1) <c>[0x02][posLength][pos][typeLength][type][payload]</c>.
    /// </summary>
    /// <param name="bytes">The whole WebSocket binary message.</param>
    /// <returns>A <see cref="FrameKind.Message"/> frame whose binary payload is a copy of the input's.</returns>
    /// <exception cref="ProtocolException">1002 for a bad first byte or a truncated header; 1007 for a type or position that is not UTF-8.</exception>
    public static Frame ReadBinary(ReadOnlySpan<byte> bytes) => BinaryFrameReader.Read(bytes);

    /// <summary>Decodes a binary frame as a server reads what a client sent: only <c>[0x01]…</c> (a client never sends a position).</summary>
    /// <exception cref="ProtocolException">As for <see cref="ReadBinary"/>, and 1002 for a positioned frame.</exception>
    internal static Frame ReadClientBinary(ReadOnlySpan<byte> bytes) => BinaryFrameReader.ReadFromClient(bytes);

    private static void ReadField(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, ref TextFields fields)
    {
        if (reader.ValueTextEquals("t"u8))
        {
            fields.KindOk = ReadString(ref reader, out fields.Kind) && fields.Kind is not null;
        }
        else if (reader.ValueTextEquals("type"u8))
        {
            fields.TypeOk = ReadString(ref reader, out fields.Type) && (fields.Type is null || ProtocolLimits.TypeFits(fields.Type));
        }
        else if (reader.ValueTextEquals("data"u8))
        {
            // The value is validated as it is skipped, and kept as its exact text: parsed only if the application reads it.
            reader.Read();
            int start = (int)reader.TokenStartIndex;
            reader.Skip();
            fields.Data = utf8[start..(int)reader.BytesConsumed].ToArray();
        }
        else if (reader.ValueTextEquals("auth"u8))
        {
            fields.Auth = JsonElement.ParseValue(ref reader);
        }
        else if (reader.ValueTextEquals("message"u8))
        {
            fields.TextOk = ReadString(ref reader, out fields.Text);
        }
        else if (reader.ValueTextEquals("id"u8))
        {
            fields.IdOk = ReadString(ref reader, out fields.Id);
        }
        else if (reader.ValueTextEquals("roomId"u8))
        {
            fields.RoomIdOk = ReadString(ref reader, out fields.RoomId);
        }
        else if (reader.ValueTextEquals("pingInterval"u8))
        {
            fields.PingIntervalOk = ReadPositiveInt(ref reader, out fields.PingInterval);
        }
        else if (reader.ValueTextEquals("pingTimeout"u8))
        {
            fields.PingTimeoutOk = ReadPositiveInt(ref reader, out fields.PingTimeout);
        }
        else if (reader.ValueTextEquals("maxMessageSize"u8))
        {
            fields.MaxMessageSizeOk = ReadPositiveInt(ref reader, out fields.MaxMessageSize);
        }
        else if (reader.ValueTextEquals("pos"u8))
        {
            fields.Position = ReadRecoveryField(ref reader, ProtocolLimits.MaxPositionLength);
        }
        else if (reader.ValueTextEquals("resume"u8))
        {
            fields.Resume = ReadRecoveryField(ref reader, ProtocolLimits.MaxResumeTokenLength);
        }
        else if (reader.ValueTextEquals("recover"u8))
        {
            reader.Read();
            fields.Recover = reader.TokenType == JsonTokenType.True;
            reader.Skip();
        }
        else if (reader.ValueTextEquals("recovered"u8))
        {
            reader.Read();
            fields.Recovered = reader.TokenType is JsonTokenType.True or JsonTokenType.False ? reader.TokenType == JsonTokenType.True : null;
            reader.Skip();
        }
        else if (fields.ReadTrace && reader.ValueTextEquals("traceparent"u8))
        {
            fields.TraceParent = ReadTraceField(ref reader, WireTraceContext.MaxTraceParentLength);
        }
        else if (fields.ReadTrace && reader.ValueTextEquals("tracestate"u8))
        {
            fields.TraceState = ReadTraceField(ref reader, WireTraceContext.MaxTraceStateLength);
        }
        else
        {
            // Receivers ignore fields they do not know.
            reader.Read();
            reader.Skip();
        }
    }

    /// <summary>
    /// A trace context field's string, or <see langword="null"/> when it is not a string, is too long or holds an escaped lone
    /// surrogate: a trace context the reader cannot use is ignored, never a protocol error.
    /// </summary>
    private static string? ReadTraceField(ref Utf8JsonReader reader, int maxLength)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > maxLength)
        {
            reader.Skip();
            return null;
        }

        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// A recovery field's string (<c>pos</c>, <c>resume</c>): <c>""</c> when it is there but not a string, too long or holds an escaped
    /// lone surrogate. A client's unusable token or position is never a protocol error: the server answers <c>recovered: false</c>.
    /// </summary>
    private static string ReadRecoveryField(ref Utf8JsonReader reader, int maxLength)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > maxLength)
        {
            reader.Skip();
            return string.Empty;
        }

        try
        {
            string value = reader.GetString()!;
            return System.Text.Encoding.UTF8.GetByteCount(value) <= maxLength ? value : string.Empty;
        }
        catch (InvalidOperationException)
        {
            return string.Empty;
        }
    }

    private static bool ReadString(ref Utf8JsonReader reader, out string? value)
    {
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                value = reader.GetString();
                return true;
            case JsonTokenType.Null:
                value = null;
                return true;
            default:
                reader.Skip();
                value = null;
                return false;
        }
    }

    private static bool ReadPositiveInt(ref Utf8JsonReader reader, out int value)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value) && value > 0)
        {
            return true;
        }

        reader.Skip();
        value = 0;
        return false;
    }

    internal static ProtocolException Invalid(string message) => new(CloseCodes.InvalidPayload, message);

    // Fields are collected first and checked against the kind afterwards: field order is not significant.
    private struct TextFields
    {
        public string? Kind;
        public bool KindOk;
        public string? Type;
        public bool? TypeOk;
        public byte[]? Data;
        public JsonElement Auth;
        public string? Text;
        public bool? TextOk;
        public string? Id;
        public bool? IdOk;
        public string? RoomId;
        public bool? RoomIdOk;
        public int PingInterval;
        public bool? PingIntervalOk;
        public int PingTimeout;
        public bool? PingTimeoutOk;
        public int MaxMessageSize;
        public bool? MaxMessageSizeOk;
        public bool ReadTrace;
        public string? TraceParent;
        public string? TraceState;
        public string? Position;
        public string? Resume;
        public bool Recover;
        public bool? Recovered;

        /// <summary>The recovery fields of a <c>hello</c> or <c>welcome</c>, or <see langword="null"/> when it has none.</summary>
        public readonly Frame.ResumeFields? ResumeFields
            => Recover || Resume is not null || Recovered is not null ? new Frame.ResumeFields(Recover || Resume is not null, Resume, Recovered) : null;

        /// <summary>The trace context read, or <see langword="null"/> (a <c>tracestate</c> without a <c>traceparent</c> means nothing).</summary>
        public readonly WireTraceContext? Trace => TraceParent is null ? null : new WireTraceContext(TraceParent, TraceState);

        public readonly Frame ToFrame(bool fromClient)
        {
            if (!KindOk)
            {
                throw Invalid("The text frame has no string field 't'.");
            }

            if (fromClient && Kind is "welcome" or "reject" or "error" or "ping")
            {
                return Frame.OfKind(Kind switch
                {
                    "welcome" => FrameKind.Welcome,
                    "reject" => FrameKind.Reject,
                    "error" => FrameKind.Error,
                    _ => FrameKind.Ping,
                });
            }

            switch (Kind)
            {
                case "msg":
                    Check(TypeOk, "type");
                    // "type":"" is the type "", absent and null are none.
                    Message message = Data is null ? new Message(Type, default(JsonElement)) : new Message(Type, new LazyJson(Data));
                    // The trace context travels beside the message, never in it; a client's pos means nothing and is dropped.
                    return Frame.ForMessage(message, Trace, fromClient || string.IsNullOrEmpty(Position) ? null : Position);
                case "hello":
                    return Frame.Hello(Auth, Trace, ResumeFields, Position);
                case "pong":
                    return Frame.Pong();
                case "ping":
                    return Frame.Ping();
                case "reject":
                case "error":
                    Check(TextOk, "message");
                    return Kind == "reject" ? Frame.Reject(Text ?? string.Empty) : Frame.Error(Text ?? string.Empty);
                case "welcome":
                    Require(IdOk, "id");
                    Require(RoomIdOk, "roomId");
                    Require(PingIntervalOk, "pingInterval");
                    Require(PingTimeoutOk, "pingTimeout");
                    Require(MaxMessageSizeOk, "maxMessageSize");
                    if (Id is null || RoomId is null)
                    {
                        throw Invalid("The welcome frame needs string fields 'id' and 'roomId'.");
                    }

                    return Frame.Welcome(Id, RoomId, PingInterval, PingTimeout, MaxMessageSize, ResumeFields,
                                         string.IsNullOrEmpty(Position) ? null : Position);
                default:
                    // Decodes, but is not a kind of v1: the receiver decides (servers close with 1002, clients ignore it).
                    return Frame.Unknown();
            }
        }

        private static void Check(bool? ok, string field)
        {
            if (ok == false)
            {
                throw Invalid($"The text frame's field '{field}' has the wrong type or length.");
            }
        }

        private static void Require(bool? ok, string field)
        {
            if (ok != true)
            {
                throw Invalid($"The welcome frame's field '{field}' is missing or has the wrong type.");
            }
        }
    }
}
