using Microsoft.Extensions.Logging;

namespace Realtime.Client.Internal;

/// <summary>Every log message of the client. EventIds are fixed and never reused; payloads and auth data are never logged.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(1, LogLevel.Error, "A '{EventName}' handler threw; the other handlers still ran and the connection is unaffected.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string eventName, Exception exception);

    [LoggerMessage(2, LogLevel.Debug, "Connected to room {RoomId} as {ConnectionId}.", EventName = "Connected")]
    public static partial void Connected(ILogger logger, string roomId, string connectionId);

    [LoggerMessage(3, LogLevel.Debug, "Disconnected from room {RoomId}: {Reason}.", EventName = "Disconnected")]
    public static partial void Disconnected(ILogger logger, string roomId, DisconnectReason reason);

    [LoggerMessage(4, LogLevel.Debug, "A connection attempt to room {RoomId} failed.", EventName = "AttemptFailed")]
    public static partial void AttemptFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(5, LogLevel.Debug, "Reconnection attempt {Attempt} to room {RoomId} in {Delay}.", EventName = "ReconnectScheduled")]
    public static partial void ReconnectScheduled(ILogger logger, int attempt, string roomId, TimeSpan delay);

    [LoggerMessage(6, LogLevel.Information, "The server sent a frame that violates the protocol ({Problem}); closing with {CloseCode}.", EventName = "ProtocolViolation")]
    public static partial void ProtocolViolation(ILogger logger, string problem, int closeCode);

    [LoggerMessage(7, LogLevel.Information, "No ping from the server within {Timeout}; the connection is considered dead.", EventName = "PingTimeout")]
    public static partial void PingTimedOut(ILogger logger, TimeSpan timeout);

    [LoggerMessage(8, LogLevel.Debug, "A presence message was ignored: {Problem}.", EventName = "PresenceMessageIgnored")]
    public static partial void PresenceMessageIgnored(ILogger logger, string problem);

    [LoggerMessage(9, LogLevel.Warning, "Restoring the presence after the reconnection to room {RoomId} failed; call SubscribeAsync or SubmitLocalStateAsync again.", EventName = "PresenceRestoreFailed")]
    public static partial void PresenceRestoreFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(10, LogLevel.Debug, "The reconnection to room {RoomId} offered to resume; recovered: {Recovered}.", EventName = "ResumeAnswered")]
    public static partial void ResumeAnswered(ILogger logger, string roomId, bool recovered);

    [LoggerMessage(11, LogLevel.Warning, "A shared document request in room {RoomId} could not be queued on the connection; it is sent again after the next connection (ClientOptions.MaxBufferedMessages).", EventName = "DocumentSendFailed")]
    public static partial void DocumentSendFailed(ILogger logger, string roomId, Exception exception);
}
