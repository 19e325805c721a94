using System.Text.Json;

namespace Realtime.Protocol;

/// <summary>One decoded frame of protocol v1. Which properties are meaningful depends on <see cref="Kind"/>.</summary>
public readonly struct Frame
{
    private Frame(FrameKind kind, Message message = default, JsonElement auth = default, string? text = null,
                  string? connectionId = null, string? roomId = null, int pingInterval = 0, int pingTimeout = 0, int maxMessageSize = 0,
                  WireTraceContext? trace = null)
    {
        Kind = kind;
        Trace = trace;
        Message = message;
        Auth = auth;
        Text = text;
        ConnectionId = connectionId;
        RoomId = roomId;
        PingInterval = pingInterval;
        PingTimeout = pingTimeout;
        MaxMessageSize = maxMessageSize;
    }

    /// <summary>The frame kind.</summary>
    public FrameKind Kind { get; }

    /// <summary>For <see cref="FrameKind.Message"/>: the application message (text or binary).</summary>
    public Message Message { get; }

    /// <summary>For <see cref="FrameKind.Hello"/>: the auth payload; <see cref="JsonValueKind.Undefined"/> when absent.</summary>
    public JsonElement Auth { get; }

    /// <summary>For <see cref="FrameKind.Reject"/> and <see cref="FrameKind.Error"/>: the server's message text.</summary>
    public string? Text { get; }

    /// <summary>For <see cref="FrameKind.Welcome"/>: the connection id the server assigned.</summary>
    public string? ConnectionId { get; }

    /// <summary>For <see cref="FrameKind.Welcome"/>: the room joined.</summary>
    public string? RoomId { get; }

    /// <summary>For <see cref="FrameKind.Welcome"/>: the server's ping interval, in milliseconds.</summary>
    public int PingInterval { get; }

    /// <summary>For <see cref="FrameKind.Welcome"/>: the server's ping timeout, in milliseconds.</summary>
    public int PingTimeout { get; }

    /// <summary>For <see cref="FrameKind.Welcome"/>: the largest message the client may send, in bytes.</summary>
    public int MaxMessageSize { get; }

    /// <summary>
    /// For <see cref="FrameKind.Hello"/> and a text <see cref="FrameKind.Message"/>: the W3C <c>traceparent</c> the client sent, as sent
    /// (not validated); <see langword="null"/> when there is none, or it was not a string. Servers never send one.
    /// </summary>
    public string? TraceParent => Trace?.TraceParent;

    /// <summary>With <see cref="TraceParent"/>: the W3C <c>tracestate</c> the client sent, as sent; <see langword="null"/> when there is none.</summary>
    public string? TraceState => Trace?.TraceState;

    /// <summary>The trace context the frame carried, or <see langword="null"/>.</summary>
    internal WireTraceContext? Trace { get; }

    internal static Frame Hello(JsonElement auth, WireTraceContext? trace = null) => new(FrameKind.Hello, auth: auth, trace: trace);

    internal static Frame Welcome(string id, string roomId, int pingInterval, int pingTimeout, int maxMessageSize)
        => new(FrameKind.Welcome, connectionId: id, roomId: roomId, pingInterval: pingInterval, pingTimeout: pingTimeout, maxMessageSize: maxMessageSize);

    internal static Frame Reject(string text) => new(FrameKind.Reject, text: text);

    internal static Frame Error(string text) => new(FrameKind.Error, text: text);

    internal static Frame ForMessage(Message message, WireTraceContext? trace = null) => new(FrameKind.Message, message: message, trace: trace);

    internal static Frame Ping() => new(FrameKind.Ping);

    internal static Frame Pong() => new(FrameKind.Pong);

    internal static Frame Unknown() => new(FrameKind.Unknown);

    internal static Frame OfKind(FrameKind kind) => new(kind);
}
