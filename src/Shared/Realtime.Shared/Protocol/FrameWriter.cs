using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Realtime.Protocol;

/// <summary>
/// Encodes frames of protocol v1 into an <see cref="IBufferWriter{T}"/>. Writers put <c>t</c> first
/// and <c>type</c> before <c>data</c>, omit <c>type</c> only when it is <see langword="null"/> (<c>""</c> is
/// written as <c>""</c>), and copy a message's <c>data</c> as its exact JSON text.
/// </summary>
/// <remarks>
/// A v1 frame carries a type of at most 255 bytes of UTF-8, and a binary frame cannot carry <c>""</c> (its
/// <c>typeLength</c> 0 means no type). A message that breaks either rule is refused with <see cref="ArgumentException"/>
/// before anything is written: it is not written as a different message.
/// </remarks>
public static class FrameWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The encoded <c>{"t":"ping"}</c> frame.</summary>
    public static ReadOnlyMemory<byte> PingFrame { get; } = "{\"t\":\"ping\"}"u8.ToArray();

    /// <summary>The encoded <c>{"t":"pong"}</c> frame.</summary>
    public static ReadOnlyMemory<byte> PongFrame { get; } = "{\"t\":\"pong\"}"u8.ToArray();

    /// <summary>Writes a <c>hello</c> frame.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="auth">The auth payload; <see cref="JsonValueKind.Undefined"/> writes no <c>auth</c> field.</param>
    public static void WriteHello(IBufferWriter<byte> output, JsonElement auth) => WriteHello(output, auth, traceParent: null, traceState: null);

    /// <summary>Writes a <c>hello</c> frame that carries the W3C trace context of the connection attempt.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="auth">The auth payload; <see cref="JsonValueKind.Undefined"/> writes no <c>auth</c> field.</param>
    /// <param name="traceParent">The W3C <c>traceparent</c> (for example an <c>Activity</c>'s <c>Id</c>); <see langword="null"/> writes none.</param>
    /// <param name="traceState">The W3C <c>tracestate</c>; written only with a <paramref name="traceParent"/>.</param>
    public static void WriteHello(IBufferWriter<byte> output, JsonElement auth, string? traceParent, string? traceState)
        => WriteHello(output, auth, traceParent, traceState, recover: false, resumeToken: null, position: null);

    /// <summary>Writes a <c>hello</c> frame of a client that recovers missed broadcasts after a drop (docs/protocol.md §3.1).</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="auth">The auth payload; <see cref="JsonValueKind.Undefined"/> writes no <c>auth</c> field.</param>
    /// <param name="traceParent">The W3C <c>traceparent</c>; <see langword="null"/> writes none.</param>
    /// <param name="traceState">The W3C <c>tracestate</c>; written only with a <paramref name="traceParent"/>.</param>
    /// <param name="recover">Whether the client takes room positions and resume tokens (<c>"recover":true</c>).</param>
    /// <param name="resumeToken">The resume token of the previous connection's <c>welcome</c>, or <see langword="null"/>.</param>
    /// <param name="position">The last room position received (from the <c>welcome</c> or a message), written with a token; <see langword="null"/> writes none.</param>
    public static void WriteHello(IBufferWriter<byte> output, JsonElement auth, string? traceParent, string? traceState, bool recover, string? resumeToken,
                                  string? position)
    {
        Utf8JsonWriter w = Start(output, "hello"u8);
        if (auth.ValueKind != JsonValueKind.Undefined)
        {
            w.WritePropertyName("auth"u8);
            WriteRaw(w, auth);
        }

        if (recover || resumeToken is not null)
        {
            w.WriteBoolean("recover"u8, true);
        }

        if (resumeToken is not null)
        {
            w.WriteString("resume"u8, resumeToken);
            if (position is not null)
            {
                w.WriteString("pos"u8, position);
            }
        }

        WriteTrace(w, traceParent, traceState);
        End(w);
    }

    /// <summary>Writes a <c>welcome</c> frame.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="connectionId">The connection id.</param>
    /// <param name="roomId">The room joined.</param>
    /// <param name="pingInterval">The ping interval, in milliseconds (positive).</param>
    /// <param name="pingTimeout">The ping timeout, in milliseconds (positive).</param>
    /// <param name="maxMessageSize">The largest message the client may send, in bytes (positive).</param>
    public static void WriteWelcome(IBufferWriter<byte> output, string connectionId, string roomId, int pingInterval, int pingTimeout, int maxMessageSize)
        => WriteWelcome(output, connectionId, roomId, pingInterval, pingTimeout, maxMessageSize, resumeToken: null, position: null, recovered: null);

    /// <summary>Writes a <c>welcome</c> frame with the recovery fields (docs/protocol.md §3.1).</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="connectionId">The connection id.</param>
    /// <param name="roomId">The room joined.</param>
    /// <param name="pingInterval">The ping interval, in milliseconds (positive).</param>
    /// <param name="pingTimeout">The ping timeout, in milliseconds (positive).</param>
    /// <param name="maxMessageSize">The largest message the client may send, in bytes (positive).</param>
    /// <param name="resumeToken">This connection's resume token (<c>resume</c>), or <see langword="null"/> when the room keeps no history.</param>
    /// <param name="position">The position from which the connection receives the room's broadcasts (<c>pos</c>), or <see langword="null"/>.</param>
    /// <param name="recovered">Whether the missed broadcasts follow (<c>recovered</c>): written when the <c>hello</c> offered a token.</param>
    public static void WriteWelcome(IBufferWriter<byte> output, string connectionId, string roomId, int pingInterval, int pingTimeout, int maxMessageSize,
                                    string? resumeToken, string? position, bool? recovered)
    {
        Utf8JsonWriter w = Start(output, "welcome"u8);
        w.WriteString("id"u8, connectionId);
        w.WriteString("roomId"u8, roomId);
        w.WriteNumber("pingInterval"u8, pingInterval);
        w.WriteNumber("pingTimeout"u8, pingTimeout);
        w.WriteNumber("maxMessageSize"u8, maxMessageSize);
        if (resumeToken is not null)
        {
            w.WriteString("resume"u8, resumeToken);
        }

        if (position is not null)
        {
            w.WriteString("pos"u8, position);
        }

        if (recovered is { } value)
        {
            w.WriteBoolean("recovered"u8, value);
        }

        End(w);
    }

    /// <summary>Writes a <c>reject</c> frame.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="message">The text for the application.</param>
    public static void WriteReject(IBufferWriter<byte> output, string message) => WriteText(output, "reject"u8, message);

    /// <summary>Writes an <c>error</c> frame.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="message">The text for the application.</param>
    public static void WriteError(IBufferWriter<byte> output, string message) => WriteText(output, "error"u8, message);

    /// <summary>
    /// Writes an application message. A <see cref="Realtime.Message"/>, a <see cref="JsonElement"/>, a <see cref="byte"/> array,
    /// a <see cref="ReadOnlyMemory{T}"/> or <see cref="Memory{T}"/> of bytes is sent as it is (the byte forms as binary frames);
    /// anything else is serialized with System.Text.Json into a <c>msg</c> frame.
    /// </summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="output">Where to write.</param>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/>. For a <see cref="Realtime.Message"/>, <see langword="null"/> keeps the message's own type.</param>
    /// <param name="options">Serializer options for other payloads.</param>
    /// <returns><see langword="true"/> when a binary frame was written; <see langword="false"/> for a text frame.</returns>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8, or is <c>""</c> on binary data.</exception>
    public static bool WriteMessage<T>(IBufferWriter<byte> output, T data, string? type, JsonSerializerOptions options)
        => WriteMessage(output, data, type, options, traceParent: null, traceState: null);

    /// <summary>
    /// Writes an application message like <see cref="WriteMessage{T}(IBufferWriter{byte}, T, string?, JsonSerializerOptions)"/>; a
    /// <c>msg</c> frame also carries the W3C trace context of the send. A binary frame has no room for one: it is written without it.
    /// </summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="output">Where to write.</param>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/>. For a <see cref="Realtime.Message"/>, <see langword="null"/> keeps the message's own type.</param>
    /// <param name="options">Serializer options for other payloads.</param>
    /// <param name="traceParent">The W3C <c>traceparent</c> (for example an <c>Activity</c>'s <c>Id</c>); <see langword="null"/> writes none.</param>
    /// <param name="traceState">The W3C <c>tracestate</c>; written only with a <paramref name="traceParent"/>.</param>
    /// <returns><see langword="true"/> when a binary frame was written; <see langword="false"/> for a text frame.</returns>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8, or is <c>""</c> on binary data.</exception>
    public static bool WriteMessage<T>(IBufferWriter<byte> output, T data, string? type, JsonSerializerOptions options, string? traceParent, string? traceState)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);

        // typeof(T) checks are folded by the JIT for value types, so structs are not boxed.
        if (typeof(T) == typeof(Message))
        {
            Message m = Unsafe.As<T, Message>(ref data);
            return WriteMessage(output, m, type ?? m.Type, traceParent, traceState);
        }

        if (typeof(T) == typeof(JsonElement))
        {
            WriteMsg(output, type, RawData(Unsafe.As<T, JsonElement>(ref data)), traceParent, traceState);
            return false;
        }

        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            WriteBinaryMessage(output, type, Unsafe.As<T, ReadOnlyMemory<byte>>(ref data).Span);
            return true;
        }

        if (typeof(T) == typeof(Memory<byte>))
        {
            WriteBinaryMessage(output, type, Unsafe.As<T, Memory<byte>>(ref data).Span);
            return true;
        }

        switch (data)
        {
            case byte[] bytes:
                WriteBinaryMessage(output, type, bytes);
                return true;
            case Message boxed:
                return WriteMessage(output, boxed, type ?? boxed.Type, traceParent, traceState);
            case JsonElement element:
                WriteMsg(output, type, RawData(element), traceParent, traceState);
                return false;
        }

        CheckType(type, binary: false);
        Utf8JsonWriter w = Start(output, "msg"u8);
        if (type is not null)
        {
            w.WriteString("type"u8, type);
        }

        w.WritePropertyName("data"u8);
        JsonSerializer.Serialize(w, data, options);
        WriteTrace(w, traceParent, traceState);
        End(w);
        return false;
    }

    /// <summary>Writes a <see cref="Realtime.Message"/> as a <c>msg</c> frame or a binary frame.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="message">The message.</param>
    /// <param name="type">The type to write (normally <c>message.Type</c>).</param>
    /// <returns><see langword="true"/> when a binary frame was written.</returns>
    /// <exception cref="ArgumentException">The type does not fit a v1 frame.</exception>
    /// <param name="traceParent">The W3C <c>traceparent</c> a <c>msg</c> frame carries, or <see langword="null"/>.</param>
    /// <param name="traceState">The W3C <c>tracestate</c> a <c>msg</c> frame carries, or <see langword="null"/>.</param>
    private static bool WriteMessage(IBufferWriter<byte> output, Message message, string? type, string? traceParent, string? traceState)
    {
        if (message.IsBinary)
        {
            WriteBinaryMessage(output, type, message.Bytes.Span);
            return true;
        }

        // The data's exact text, taken without parsing a received message.
        WriteMsg(output, type, message.DataUtf8, traceParent, traceState);
        return false;
    }

    /// <summary>Writes a <c>msg</c> frame whose <c>data</c> is the exact JSON text of <paramref name="data"/>.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="type">The message type, or <see langword="null"/>.</param>
    /// <param name="data">The payload; <c>null</c> and undefined write no <c>data</c> field.</param>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8.</exception>
    public static void WriteTextMessage(IBufferWriter<byte> output, string? type, JsonElement data)
        => WriteMsg(output, type, RawData(data), traceParent: null, traceState: null);

    /// <summary>
    /// Writes a room broadcast with its room position (docs/protocol.md §3.1), for a client that asked for positions: a <c>msg</c>
    /// frame with <c>pos</c> after <c>data</c>, or a binary frame <c>[0x02][posLength][pos][typeLength][type][payload]</c>.
    /// </summary>
    /// <param name="output">Where to write.</param>
    /// <param name="message">The message.</param>
    /// <param name="position">The broadcast's position: at most 255 bytes of UTF-8.</param>
    /// <returns><see langword="true"/> when a binary frame was written.</returns>
    /// <exception cref="ArgumentException">The type does not fit a v1 frame, or the position is too long.</exception>
    public static bool WritePositionedMessage(IBufferWriter<byte> output, Message message, string position)
        => PositionedFrameWriter.Write(output, message, position);

    /// <summary>An element's exact JSON text; empty for JSON <c>null</c> and undefined.</summary>
    private static ReadOnlySpan<byte> RawData(JsonElement data)
        => data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? default : JsonMarshal.GetRawUtf8Value(data);

    /// <summary>
    /// The one <c>msg</c> writer: <c>type</c> when there is one, then <c>data</c> as its exact JSON text (none when empty: JSON
    /// <c>null</c>), then the trace context when there is one.
    /// </summary>
    private static void WriteMsg(IBufferWriter<byte> output, string? type, ReadOnlySpan<byte> data, string? traceParent, string? traceState)
    {
        CheckType(type, binary: false);
        Utf8JsonWriter w = Start(output, "msg"u8);
        if (type is not null)
        {
            w.WriteString("type"u8, type);
        }

        if (!data.IsEmpty)
        {
            // The exact JSON text received, without re-escaping: a relayed frame grows only by the envelope.
            // It is always complete, valid JSON (an element, or text the frame reader validated), so validation is skipped.
            w.WritePropertyName("data"u8);
            w.WriteRawValue(data, skipInputValidation: true);
        }

        WriteTrace(w, traceParent, traceState);
        End(w);
    }

    /// <summary>The optional W3C trace context fields (<c>traceparent</c>, then <c>tracestate</c>, which means nothing without it).</summary>
    private static void WriteTrace(Utf8JsonWriter w, string? traceParent, string? traceState)
    {
        if (traceParent is null)
        {
            return;
        }

        w.WriteString("traceparent"u8, traceParent);
        if (!string.IsNullOrEmpty(traceState))
        {
            w.WriteString("tracestate"u8, traceState);
        }
    }

    /// <summary>Writes a binary frame: <c>[0x01][typeLength][type][payload]</c>.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="type">The message type (at most 255 bytes of UTF-8, not <c>""</c>), or <see langword="null"/>.</param>
    /// <param name="payload">The payload.</param>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8, or is <c>""</c>.</exception>
    public static void WriteBinaryMessage(IBufferWriter<byte> output, string? type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckType(type, binary: true);
        int typeLength = type is null ? 0 : Encoding.UTF8.GetByteCount(type);
        int length = 2 + typeLength + payload.Length;
        Span<byte> span = output.GetSpan(length);
        span[0] = ProtocolLimits.BinaryMessageMarker;
        span[1] = (byte)typeLength;
        if (type is not null)
        {
            Encoding.UTF8.GetBytes(type, span[2..]);
        }

        payload.CopyTo(span[(2 + typeLength)..]);
        output.Advance(length);
    }

    /// <summary>Refuses a type a v1 frame cannot carry, before anything is written.</summary>
    /// <exception cref="ArgumentException">The type is longer than 255 bytes of UTF-8, or is <c>""</c> on a binary frame.</exception>
    internal static void CheckType(string? type, bool binary)
    {
        if (ProtocolLimits.TypeProblem(type, binary) is { } problem)
        {
            throw new ArgumentException(problem, nameof(type));
        }
    }

    private static void WriteText(IBufferWriter<byte> output, ReadOnlySpan<byte> kind, string message)
    {
        Utf8JsonWriter w = Start(output, kind);
        w.WriteString("message"u8, message);
        End(w);
    }

    private static void WriteRaw(Utf8JsonWriter w, JsonElement value)
    {
        // The exact JSON text received, without re-escaping: a relayed frame grows only by the envelope.
        // An element is always complete, valid JSON, so validation is skipped.
        w.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
    }

    internal static Utf8JsonWriter Start(IBufferWriter<byte> output, ReadOnlySpan<byte> kind)
    {
        ArgumentNullException.ThrowIfNull(output);
        Utf8JsonWriter w = t_writer ??= new Utf8JsonWriter(output, WriterOptions);
        w.Reset(output);
        w.WriteStartObject();
        w.WriteString("t"u8, kind);
        return w;
    }

    internal static void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();

        // Drop the reference to the caller's buffer so it can be collected or reused.
        w.Reset(NullBufferWriter.Instance);
    }

    private sealed class NullBufferWriter : IBufferWriter<byte>
    {
        public static readonly NullBufferWriter Instance = new();

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException();

        public Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException();
    }
}
