using System.Text.Json;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Server.Internal.Protocols;

/// <summary>What one WebSocket message from a client means, in terms every protocol shares.</summary>
internal enum InboundKind
{
    /// <summary>Nothing for the connection to act on (a protocol's own bookkeeping, or the first part of a message in several).</summary>
    None,

    /// <summary>The client's opening request, with its auth payload.</summary>
    Hello,

    /// <summary>An application message.</summary>
    Message,

    /// <summary>The answer to the server's heartbeat.</summary>
    Pong,

    /// <summary>A protocol violation: the connection is closed with <see cref="InboundEvent.CloseCode"/>.</summary>
    Violation,

    /// <summary>The protocol answers the client at once with <see cref="InboundEvent.Reply"/> (a message it could not decode, a client's ping); the connection stays open.</summary>
    Reply,

    /// <summary>The client says it is leaving (a protocol's own disconnect packet): the connection closes as a client disconnect.</summary>
    Goodbye,
}

/// <summary>One event read from a client by a <see cref="ProtocolReader"/>. Which members mean something depends on <see cref="Kind"/>.</summary>
internal readonly struct InboundEvent
{
    private InboundEvent(InboundKind kind, Message message = default, JsonElement auth = default, int closeCode = 0, string? problem = null,
                         OutboundFrame reply = default, WireTraceContext? trace = null, Recovery.RecoveryState? recovery = null)
    {
        Kind = kind;
        Recovery = recovery;
        Trace = trace;
        Reply = reply;
        Message = message;
        Auth = auth;
        CloseCode = closeCode;
        Problem = problem;
    }

    public InboundKind Kind { get; }

    /// <summary>For <see cref="InboundKind.Message"/>: the message, which owns its data.</summary>
    public Message Message { get; }

    /// <summary>For <see cref="InboundKind.Hello"/>: the auth payload; undefined when there is none.</summary>
    public JsonElement Auth { get; }

    /// <summary>For <see cref="InboundKind.Hello"/> and <see cref="InboundKind.Message"/>: the trace context the client sent with it (read only while the server traces), or <see langword="null"/>.</summary>
    public WireTraceContext? Trace { get; }

    /// <summary>For <see cref="InboundKind.Hello"/>: what a client that recovers asked and offered (docs/protocol.md §3.1), or <see langword="null"/> when it did not ask.</summary>
    public Recovery.RecoveryState? Recovery { get; }

    /// <summary>For <see cref="InboundKind.Violation"/>: the WebSocket close code.</summary>
    public int CloseCode { get; }

    /// <summary>For <see cref="InboundKind.Violation"/>: what was wrong, for the log (never message content).</summary>
    public string? Problem { get; }

    /// <summary>For <see cref="InboundKind.Reply"/>: the frame to send back.</summary>
    public OutboundFrame Reply { get; }

    public static InboundEvent None => default;

    public static InboundEvent Pong => new(InboundKind.Pong);

    public static InboundEvent Goodbye => new(InboundKind.Goodbye);

    public static InboundEvent Answer(OutboundFrame reply, string? problem = null) => new(InboundKind.Reply, problem: problem, reply: reply);

    public static InboundEvent Hello(JsonElement auth, WireTraceContext? trace = null, Recovery.RecoveryState? recovery = null)
        => new(InboundKind.Hello, auth: auth, trace: trace, recovery: recovery);

    public static InboundEvent ForMessage(Message message, WireTraceContext? trace = null) => new(InboundKind.Message, message: message, trace: trace);

    public static InboundEvent Violation(int closeCode, string problem) => new(InboundKind.Violation, closeCode: closeCode, problem: problem);
}
