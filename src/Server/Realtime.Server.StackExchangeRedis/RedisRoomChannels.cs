using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The rooms this node is subscribed to: a room's channel is subscribed while the node has members there, and each room's
/// <see cref="RoomFeed"/> delivers what arrives in the room's one order, repairing from the room's log or reporting a gap. When the
/// subscriber link comes back, every room is checked again (at once, and at the next heartbeat), so a quiet room is repaired too.
/// In a room that keeps a history for recovery, every broadcast delivered carries its room position (its epoch and number in Redis),
/// and the node is told where the room stood when it subscribed (<paramref name="historyStarts"/>).
/// </summary>
internal sealed class RedisRoomChannels(RedisLink link, RedisKeys keys, RedisBackplaneOptions options, HistoryRooms history, RedisBackplaneMetrics metrics,
                                        Action<RoomBroadcast> deliverLocally, Action<string, RoomPosition> historyStarts, string nodeId, ILogger logger)
    : IRoomFeedOwner
{
    /// <summary>The type of the message that tells a room's members they missed broadcasts.</summary>
    public const string GapMessageType = "realtime.gap";

    private static readonly RedisValue[] SequenceFields = ["e", "s"];

    private readonly ConcurrentDictionary<string, RoomFeed> _rooms = new(StringComparer.Ordinal);
    private int _checkAgain;

    public int LogLength(string roomId) => history.LogLength(roomId, options.HistorySize);

    /// <summary>
    /// Subscribes to the room's channel, then reads the room's sequence: what was published up to then is not for this node's members,
    /// everything after arrives on the channel (the queue holds it until the handler is attached). In a room that keeps a history,
    /// the node is told that position before anything is delivered.
    /// </summary>
    public async ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken)
    {
        ChannelMessageQueue queue = await link.RunAsync(redis => redis.GetSubscriber().SubscribeAsync(keys.Room(roomId)), "subscribe to a room", cancellationToken)
            .ConfigureAwait(false);
        var room = new RoomFeed(roomId, queue, this, positioned: history.Keeps(roomId));
        try
        {
            (byte[]? epoch, long seq) = await ReadSequenceAsync(roomId, cancellationToken).ConfigureAwait(false);
            room.Start(epoch, seq);
            if (room.Positioned && RoomSequence.StartPosition(epoch, seq) is { } start)
            {
                historyStarts(roomId, start);
            }
        }
        catch
        {
            await queue.UnsubscribeAsync().WaitAsync(link.Timeout, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        queue.OnMessage(message =>
        {
            if (message.Message.IsNull)
            {
                Undecodable(roomId);
                return;
            }

            room.Post((byte[])message.Message!);
        });
        _rooms[roomId] = room;
        metrics.Subscribed();
    }

    public async ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken)
    {
        if (_rooms.TryRemove(roomId, out RoomFeed? room))
        {
            room.Stop(); // a repair still under way delivers nothing to the members of a later subscription
            metrics.Unsubscribed();
            await room.Queue.UnsubscribeAsync().WaitAsync(link.Timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The subscriber link came back: every room is checked now, and again at the next heartbeat (a room's subscription may come back after its check).</summary>
    public void OnSubscriberRestored()
    {
        Interlocked.Exchange(ref _checkAgain, 1);
        CheckAll();
    }

    /// <summary>At each heartbeat: the checks asked for by a restored link or a failed read.</summary>
    public void OnHeartbeat()
    {
        if (Interlocked.Exchange(ref _checkAgain, 0) == 1)
        {
            CheckAll();
        }
    }

    public Task<(byte[]? Epoch, long Seq)> ReadSequenceAsync(string roomId) => ReadSequenceAsync(roomId, link.Stopping);

    public Task<StreamEntry[]> ReadLogAsync(string roomId, long from, long through)
        => link.RunAsync(redis => redis.GetDatabase().StreamRangeAsync(keys.Log(roomId), $"{from}-0", $"{through}-0"), "repair a room's gap", link.Stopping);

    public void Deliver(string roomId, ReadOnlyMemory<byte> frame, bool repaired, RoomPosition? position)
    {
        if (!BackplaneCodec.TryDecodeBroadcast(roomId, frame.Span, position, out RoomBroadcast? broadcast))
        {
            Undecodable(roomId);
            return;
        }

        if (repaired)
        {
            metrics.Repaired();
        }

        metrics.Received(); // before the members can see it
        deliverLocally(broadcast);
    }

    public void ReportGap(string roomId, long? missed)
    {
        byte[] data = Encoding.UTF8.GetBytes(missed is { } count ? $$"""{"missed":{{count}}}""" : """{"missed":null}""");
        metrics.GapReported();
        deliverLocally(new RoomBroadcast(roomId, new Message(GapMessageType, new LazyJson(data)), null, nodeId));
        RedisLog.GapReported(logger, roomId, missed);
    }

    public void CheckFailed(string roomId, Exception exception)
    {
        if (link.Stopping.IsCancellationRequested)
        {
            return; // the backplane is stopping: nothing to repair
        }

        RedisLog.RepairFailed(logger, roomId, exception);
        Interlocked.Exchange(ref _checkAgain, 1);
    }

    public void DeliveryFailed(string roomId, Exception exception) => RedisLog.RoomDeliveryFailed(logger, roomId, exception);

    public void FellBehind(string roomId, int pending) => RedisLog.RoomBehind(logger, roomId, pending);

    public void Undecodable(string roomId) => RedisLog.FrameUndecodable(logger, roomId);

    private void CheckAll()
    {
        foreach (RoomFeed room in _rooms.Values)
        {
            room.RequestCheck();
        }
    }

    private async Task<(byte[]? Epoch, long Seq)> ReadSequenceAsync(string roomId, CancellationToken cancellationToken)
    {
        RedisValue[] sequence = await link.RunAsync(redis => redis.GetDatabase().HashGetAsync(keys.Sequence(roomId), SequenceFields), "read a room's sequence", cancellationToken)
            .ConfigureAwait(false);
        return ((byte[]?)sequence[0], sequence[1].IsNull ? 0 : (long)sequence[1]);
    }
}
