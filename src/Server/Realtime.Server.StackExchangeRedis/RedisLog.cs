using Microsoft.Extensions.Logging;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>What the Redis backplane logs (category <c>Realtime.Server.StackExchangeRedis</c>). Never a message's content.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(1, LogLevel.Warning, "A backplane message on {Channel} could not be decoded (another version of Realtime on the same prefix?); dropped.", EventName = "BackplaneFrameUndecodable")]
    public static partial void FrameUndecodable(ILogger logger, string channel);

    [LoggerMessage(2, LogLevel.Warning, "A backplane message for {Target} could not be delivered on this node.", EventName = "BackplaneDeliveryFailed")]
    public static partial void DeliveryFailed(ILogger logger, string target, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "The backplane's heartbeat could not reach Redis; retrying every heartbeat interval.", EventName = "BackplaneHeartbeatFailed")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Removed {Members} members of nodes silent for longer than {NodeTimeout} from the cluster's membership.", EventName = "BackplaneDeadNodeSwept")]
    public static partial void DeadNodeSwept(ILogger logger, long members, TimeSpan nodeTimeout);

    [LoggerMessage(5, LogLevel.Warning, "Room {RoomId}: {Missed} broadcasts could not be delivered on this node (the link to Redis broke, or this node fell behind, and the room's log no longer holds them); its members were sent a realtime.gap message.", EventName = "BackplaneGapReported")]
    public static partial void GapReported(ILogger logger, string roomId, long? missed);

    [LoggerMessage(6, LogLevel.Warning, "Room {RoomId}: the broadcasts this node missed could not be read from its log; tried again at the next heartbeat.", EventName = "BackplaneRepairFailed")]
    public static partial void RepairFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Redis had forgotten this node (its data was lost, or it swept this node as dead); {Members} memberships were written again.", EventName = "BackplaneMembersReasserted")]
    public static partial void MembersReasserted(ILogger logger, int members);

    [LoggerMessage(8, LogLevel.Warning, "Room {RoomId}: this node fell {Pending} broadcasts behind the room's channel; what arrives meanwhile is dropped here and delivered from the room's log once it catches up.", EventName = "BackplaneRoomBehind")]
    public static partial void RoomBehind(ILogger logger, string roomId, int pending);

    [LoggerMessage(9, LogLevel.Warning, "Redis refused a broadcast as late although it was sent within its deadline: Redis's clock moved against this node's reading of it; reading it again.", EventName = "BackplaneClockReadAgain")]
    public static partial void ClockReadAgain(ILogger logger);

    [LoggerMessage(10, LogLevel.Error, "Room {RoomId}: delivering a broadcast on this node failed; the room's next broadcast repairs what it can.", EventName = "BackplaneRoomDeliveryFailed")]
    public static partial void RoomDeliveryFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Room {RoomId}: its history could not be read from Redis; a client that reconnected is not recovered.", EventName = "BackplaneHistoryReadFailed")]
    public static partial void HistoryReadFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "A resume could not be claimed in Redis; the client that reconnected is not recovered.", EventName = "BackplaneResumeClaimFailed")]
    public static partial void ResumeClaimFailed(ILogger logger, Exception exception);
}
