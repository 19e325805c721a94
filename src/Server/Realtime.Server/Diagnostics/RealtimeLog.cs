using Microsoft.Extensions.Logging;

namespace Realtime.Server.Diagnostics;

/// <summary>
/// Every log message of the server. EventIds are fixed and never reused. Payloads, auth data and
/// tokens are never logged: only ids, room ids, sizes, codes and reasons.
/// </summary>
internal static partial class RealtimeLog
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} accepted into room {RoomId}.", EventName = "ConnectionAccepted")]
    public static partial void ConnectionAccepted(ILogger logger, string connectionId, string roomId);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} rejected during the handshake.", EventName = "ConnectionRejected")]
    public static partial void ConnectionRejected(ILogger logger, string connectionId);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId} closed: {Reason}, close code {CloseCode}.", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId, DisconnectReason reason, int closeCode);

    [LoggerMessage(4, LogLevel.Information, "Connection {ConnectionId} did not complete the handshake within {Timeout} (Realtime:HandshakeTimeout); closing with 4008.", EventName = "HandshakeTimeout")]
    public static partial void HandshakeTimedOut(ILogger logger, string connectionId, TimeSpan timeout);

    [LoggerMessage(5, LogLevel.Information, "Connection {ConnectionId} violated the protocol ({Problem}); closing with {CloseCode}.", EventName = "ProtocolViolation")]
    public static partial void ProtocolViolation(ILogger logger, string connectionId, string problem, int closeCode);

    [LoggerMessage(6, LogLevel.Warning, "Connection {ConnectionId} is a slow consumer: its outbound queue is full ({QueuedFrames} frames, {QueuedBytes} bytes; Realtime:MaxQueuedMessages {MaxFrames}, Realtime:MaxQueuedBytes {MaxBytes}); closing with 4003.", EventName = "SlowConsumer")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, int queuedFrames, long queuedBytes, int maxFrames, long maxBytes);

    [LoggerMessage(7, LogLevel.Information, "Connection {ConnectionId} answered no ping within {Timeout} (Realtime:PingTimeout); closing with 4001.", EventName = "PingTimeout")]
    public static partial void PingTimedOut(ILogger logger, string connectionId, TimeSpan timeout);

    [LoggerMessage(8, LogLevel.Error, "Connect middleware failed for connection {ConnectionId}; the connection is rejected with \"Internal server error\".", EventName = "ConnectMiddlewareFailed")]
    public static partial void ConnectMiddlewareFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "Message middleware failed for connection {ConnectionId}; the message is dropped and the sender gets an error frame.", EventName = "MessageMiddlewareFailed")]
    public static partial void MessageMiddlewareFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(10, LogLevel.Error, "A '{EventName}' hook failed (connection {ConnectionId}); the other hooks still ran.", EventName = "HookFailed")]
    public static partial void HookFailed(ILogger logger, string eventName, string? connectionId, Exception exception);

    [LoggerMessage(11, LogLevel.Debug, "Connection {ConnectionId}: the WebSocket failed while sending or receiving.", EventName = "TransportFailed")]
    public static partial void TransportFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(12, LogLevel.Information, "The application is stopping: refusing new connections and closing {Count} connections with 1001.", EventName = "ShuttingDown")]
    public static partial void ShuttingDown(ILogger logger, int count);

    [LoggerMessage(13, LogLevel.Error, "Unexpected error in connection {ConnectionId}; closing with 1011.", EventName = "UnexpectedError")]
    public static partial void UnexpectedError(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(14, LogLevel.Debug, "Refused a request to the Realtime endpoint with HTTP {StatusCode}: {Problem}", EventName = "RequestRefused")]
    public static partial void RequestRefused(ILogger logger, int statusCode, string problem);

    [LoggerMessage(17, LogLevel.Warning, "The backplane failed to unsubscribe room {RoomId}.", EventName = "UnsubscribeFailed")]
    public static partial void UnsubscribeFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(18, LogLevel.Error, "The backplane failed to publish a broadcast to room {RoomId}.", EventName = "PublishFailed")]
    public static partial void PublishFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(19, LogLevel.Error, "Connection {ConnectionId} could not join room {RoomId}: the backplane failed to subscribe it.", EventName = "JoinFailed")]
    public static partial void JoinFailed(ILogger logger, string connectionId, string roomId, Exception exception);

    [LoggerMessage(20, LogLevel.Warning, "The backplane failed to remove connection {ConnectionId} from the membership of room {RoomId}.", EventName = "MemberRemovalFailed")]
    public static partial void MemberRemovalFailed(ILogger logger, string connectionId, string roomId, Exception exception);

    [LoggerMessage(21, LogLevel.Debug, "Connection {ConnectionId} stopped reading: {QueuedMessages} messages ({QueuedBytes} bytes) wait for the application.", EventName = "InboundQueueFull")]
    public static partial void InboundQueueFull(ILogger logger, string connectionId, int queuedMessages, long queuedBytes);

    [LoggerMessage(22, LogLevel.Debug, "Connection {ConnectionId} sent a message the server could not decode ({Problem}); refused with message_error, the connection stays open.", EventName = "MessageUndecodable")]
    public static partial void MessageUndecodable(ILogger logger, string connectionId, string problem);

    [LoggerMessage(23, LogLevel.Information, "Connection {ConnectionId} was replaced by a newer connection that presented the same id; closing the older one with 4000.", EventName = "ConnectionReplaced")]
    public static partial void ConnectionReplaced(ILogger logger, string connectionId);

    [LoggerMessage(24, LogLevel.Warning, "Broadcasts were not sent to {Members} room members whose wire protocol cannot send them (room {RoomId}, the latest: {Problem}); the rooms' other members got them. Logged at most every 10 s; realtime.server.broadcast.skipped counts each.", EventName = "BroadcastNotEncodable")]
    public static partial void BroadcastNotEncodable(ILogger logger, string roomId, int members, string problem);

    [LoggerMessage(25, LogLevel.Error, "The feature {Feature} failed on {Event} (connection {ConnectionId}).", EventName = "FeatureFailed")]
    public static partial void FeatureFailed(ILogger logger, string feature, string @event, string? connectionId, Exception exception);

    [LoggerMessage(26, LogLevel.Debug, "Connection {ConnectionId} resumed connection {FormerConnectionId} in room {RoomId}: {Replayed} missed broadcasts replayed.", EventName = "ConnectionResumed")]
    public static partial void ConnectionResumed(ILogger logger, string connectionId, string formerConnectionId, string roomId, int replayed);

    [LoggerMessage(27, LogLevel.Debug, "Connection {ConnectionId} asked to resume in room {RoomId} and was not recovered ({Reason}); it proceeds as a new connection.", EventName = "ResumeRefused")]
    public static partial void ResumeRefused(ILogger logger, string connectionId, string roomId, string reason);

    [LoggerMessage(28, LogLevel.Warning, "The backplane failed to {Operation} for connection {ConnectionId} (room {RoomId}); that connection is not recovered.", EventName = "RecoveryBackplaneFailed")]
    public static partial void RecoveryBackplaneFailed(ILogger logger, string operation, string connectionId, string roomId, Exception exception);
}
