using System.Text.Json;

namespace Realtime.Protocol;

/// <summary>One decoded frame of protocol v1. Which properties are meaningful depends on <see cref="Kind"/>.</summary>
public readonly struct Frame
{
    private readonly ResumeFields? _resume; // hello and welcome of a client that recovers (rare): one field for the three values
    private Frame(FrameKind kind, Message message = default, JsonElement auth = default, string? text = null,
                  string? connectionId = null, string? roomId = null, int pingInterval = 0, int pingTimeout = 0, int maxMessageSize = 0,
                  WireTraceContext? trace = null, string? position = null, ResumeFields? resume = null)
    {
        Kind = kind;
        Position = position;
        _resume = resume;
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

    /// <summary>
    /// The room position (docs/protocol.md §3.1, opaque): for a <see cref="FrameKind.Message"/> from a server, the room broadcast's
    /// position; for a <see cref="FrameKind.Welcome"/>, the position from which the connection receives the room's broadcasts; for a
    /// <see cref="FrameKind.Hello"/>, the last position the client received. <see langword="null"/> when absent; <c>""</c> in a
    /// <c>hello</c> when the field was there but unusable (not a string, or too long).
    /// </summary>
    public string? Position { get; }

    /// <summary>
    /// For <see cref="FrameKind.Hello"/>: whether the client takes room positions and resume tokens (<c>recover</c>, or a
    /// <c>resume</c> token, which implies it).
    /// </summary>
    public bool Recover => _resume?.Recover ?? false;

    /// <summary>
    /// The resume token: for <see cref="FrameKind.Hello"/>, the one the client offers (<c>""</c> when the field was there but unusable);
    /// for <see cref="FrameKind.Welcome"/>, the one the server issued for this connection. <see langword="null"/> when absent.
    /// </summary>
    public string? ResumeToken => _resume?.Token;

    /// <summary>For <see cref="FrameKind.Welcome"/>: whether the missed broadcasts follow; <see langword="null"/> when the <c>hello</c> offered no token.</summary>
    public bool? Recovered => _resume?.Recovered;

    internal static Frame Hello(JsonElement auth, WireTraceContext? trace = null, ResumeFields? resume = null, string? position = null)
        => new(FrameKind.Hello, auth: auth, trace: trace, position: position, resume: resume);

    internal static Frame Welcome(string id, string roomId, int pingInterval, int pingTimeout, int maxMessageSize, ResumeFields? resume = null, string? position = null)
        => new(FrameKind.Welcome, connectionId: id, roomId: roomId, pingInterval: pingInterval, pingTimeout: pingTimeout, maxMessageSize: maxMessageSize,
               position: position, resume: resume);

    internal static Frame Reject(string text) => new(FrameKind.Reject, text: text);

    internal static Frame Error(string text) => new(FrameKind.Error, text: text);

    internal static Frame ForMessage(Message message, WireTraceContext? trace = null, string? position = null)
        => new(FrameKind.Message, message: message, trace: trace, position: position);

    internal static Frame Ping() => new(FrameKind.Ping);

    internal static Frame Pong() => new(FrameKind.Pong);

    internal static Frame Unknown() => new(FrameKind.Unknown);

    internal static Frame OfKind(FrameKind kind) => new(kind);

    /// <summary>The recovery fields of a <c>hello</c> or <c>welcome</c>.</summary>
    internal sealed record ResumeFields(bool Recover, string? Token, bool? Recovered);
}
