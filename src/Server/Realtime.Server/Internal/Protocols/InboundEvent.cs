using System.Text.Json;

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
}

/// <summary>One event read from a client by a <see cref="ProtocolReader"/>. Which members mean something depends on <see cref="Kind"/>.</summary>
internal readonly struct InboundEvent
{
    private InboundEvent(InboundKind kind, Message message = default, JsonElement auth = default, int closeCode = 0, string? problem = null)
    {
        Kind = kind;
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

    /// <summary>For <see cref="InboundKind.Violation"/>: the WebSocket close code.</summary>
    public int CloseCode { get; }

    /// <summary>For <see cref="InboundKind.Violation"/>: what was wrong, for the log (never message content).</summary>
    public string? Problem { get; }

    public static InboundEvent Pong => new(InboundKind.Pong);

    public static InboundEvent Hello(JsonElement auth) => new(InboundKind.Hello, auth: auth);

    public static InboundEvent ForMessage(Message message) => new(InboundKind.Message, message: message);

    public static InboundEvent Violation(int closeCode, string problem) => new(InboundKind.Violation, closeCode: closeCode, problem: problem);
}
