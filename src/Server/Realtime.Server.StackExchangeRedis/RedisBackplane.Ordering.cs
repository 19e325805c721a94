using System.Buffers.Text;
using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The receiving side of a room: messages arrive as <c>epoch|seq|frame</c> and are delivered in sequence order. A message past the
/// next expected one means the link lost some: they are read from the room's log and delivered first; what the log no longer holds
/// is reported to the room's members on this node as a <c>realtime.gap</c> message, in its place. When the subscriber link comes
/// back, every room's sequence is read again, so a gap is repaired even in a room that goes quiet.
/// </summary>
internal sealed partial class RedisBackplane
{
    /// <summary>The type of the message that tells a room's members they missed broadcasts.</summary>
    public const string GapMessageType = "realtime.gap";

    private static readonly RedisValue[] SequenceFields = ["e", "s"];
    private static readonly RedisValue EpochField = "e";
    private static readonly RedisValue FrameField = "f";

    private async Task OnRoomMessageAsync(RoomChannel room, ChannelMessage message)
    {
        byte[]? live = message.Message;
        if (live is null || !TrySplit(live, out int epochLength, out long seq, out int frameStart))
        {
            Log.FrameUndecodable(_logger, message.Channel.ToString());
            return;
        }

        await room.Sequence.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            switch (room.Sequence.OnLive(live.AsSpan(0, epochLength), seq))
            {
                case RoomSequence.Verdict.Duplicate:
                    return;
                case RoomSequence.Verdict.Reset:
                    ReportGap(room.RoomId, null);
                    await RepairAsync(room, seq - 1).ConfigureAwait(false);
                    break;
                case RoomSequence.Verdict.Repair:
                    await RepairAsync(room, seq - 1).ConfigureAwait(false);
                    break;
            }

            Deliver(room.RoomId, live.AsMemory(frameStart));
            room.Sequence.DeliveredThrough(seq);
        }
        finally
        {
            room.Sequence.Gate.Release();
        }
    }

    /// <summary>Delivers the room's broadcasts from <see cref="RoomSequence.Expected"/> through <paramref name="through"/> from its log.</summary>
    private async Task RepairAsync(RoomChannel room, long through)
    {
        long from = room.Sequence.Expected;
        if (through < from)
        {
            return;
        }

        // The log holds at least the last HistorySize broadcasts: older ones are reported without asking.
        long oldest = Math.Max(from, through - Math.Max(_options.HistorySize, 0) + 1);
        if (oldest > from)
        {
            ReportGap(room.RoomId, oldest - from);
        }

        StreamEntry[] entries = [];
        if (oldest <= through)
        {
            try
            {
                entries = await RunAsync(redis => redis.GetDatabase().StreamRangeAsync(_keys.Log(room.RoomId), $"{oldest}-0", $"{through}-0"), "repair a room's gap",
                    _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisBackplaneException or OperationCanceledException)
            {
                Log.RepairFailed(_logger, room.RoomId, ex);
            }
        }

        long next = oldest;
        foreach (StreamEntry entry in entries)
        {
            byte[]? frame = entry[FrameField];
            if (!TryParseId(entry.Id, out long seq) || seq < next || seq > through || frame is null
                || !((byte[]?)entry[EpochField]).AsSpan().SequenceEqual(room.Sequence.Epoch))
            {
                continue;
            }

            if (seq > next)
            {
                ReportGap(room.RoomId, seq - next);
            }

            _metrics.Repaired();
            Deliver(room.RoomId, frame);
            next = seq + 1;
        }

        if (next <= through)
        {
            ReportGap(room.RoomId, through - next + 1);
        }

        room.Sequence.DeliveredThrough(through);
    }

    /// <summary>
    /// After the subscriber link came back: each room's sequence read again, and what was published meanwhile repaired.
    /// <see langword="false"/> when Redis failed a read (the heartbeat tries again).
    /// </summary>
    private async Task<bool> CheckRoomsAsync()
    {
        foreach (RoomChannel room in _rooms.Values)
        {
            try
            {
                // Read under the gate: a read from before a delivery would look like a sequence that went back.
                await room.Sequence.Gate.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    (byte[]? epoch, long seq) = await ReadSequenceAsync(room.RoomId, _stopping.Token).ConfigureAwait(false);
                    switch (room.Sequence.OnCheck(epoch, seq))
                    {
                        case RoomSequence.Verdict.Reset:
                            ReportGap(room.RoomId, null);
                            await RepairAsync(room, seq).ConfigureAwait(false);
                            break;
                        case RoomSequence.Verdict.Repair:
                            await RepairAsync(room, seq).ConfigureAwait(false);
                            break;
                    }
                }
                finally
                {
                    room.Sequence.Gate.Release();
                }
            }
            catch (Exception ex) when (ex is RedisBackplaneException or OperationCanceledException)
            {
                Log.RepairFailed(_logger, room.RoomId, ex);
                return false;
            }
        }

        return true;
    }

    private async Task<(byte[]? Epoch, long Seq)> ReadSequenceAsync(string roomId, CancellationToken cancellationToken)
    {
        RedisValue[] sequence = await RunAsync(redis => redis.GetDatabase().HashGetAsync(_keys.Sequence(roomId), SequenceFields), "read a room's sequence", cancellationToken)
            .ConfigureAwait(false);
        return ((byte[]?)sequence[0], sequence[1].IsNull ? 0 : (long)sequence[1]);
    }

    /// <summary>Redis forgot this node (it lost its data, or swept the node as dead while it was cut off): its members are written again.</summary>
    private async Task ReassertMembersAsync()
    {
        int count = 0;
        foreach (string roomId in LocalRooms)
        {
            foreach (string connectionId in GetLocalConnectionIds(roomId))
            {
                await AddMemberAsync(roomId, connectionId, _stopping.Token).ConfigureAwait(false);
                count++;
            }
        }

        if (count > 0)
        {
            Log.MembersReasserted(_logger, count);
        }
    }

    private void Deliver(string roomId, ReadOnlyMemory<byte> frame)
    {
        if (!BackplaneCodec.TryDecode(frame.Span, out BackplaneCodec.Kind kind, out string origin, out string? except, out Message decoded) || kind != BackplaneCodec.Kind.Broadcast)
        {
            Log.FrameUndecodable(_logger, roomId);
            return;
        }

        _metrics.Received(); // before the members can see it
        try
        {
            DeliverLocally(new RoomBroadcast(roomId, decoded, except, origin));
        }
        catch (ArgumentException ex)
        {
            Log.DeliveryFailed(_logger, roomId, ex);
        }
    }

    /// <summary>Tells the room's members on this node that they missed <paramref name="missed"/> broadcasts (<see langword="null"/>: an unknown number).</summary>
    private void ReportGap(string roomId, long? missed)
    {
        byte[] data = Encoding.UTF8.GetBytes(missed is { } count ? $$"""{"missed":{{count}}}""" : """{"missed":null}""");
        _metrics.GapReported();
        DeliverLocally(new RoomBroadcast(roomId, new Message(GapMessageType, new LazyJson(data)), null, NodeId));
        Log.GapReported(_logger, roomId, missed);
    }

    /// <summary>Splits <c>epoch|seq|frame</c>.</summary>
    private static bool TrySplit(ReadOnlySpan<byte> live, out int epochLength, out long seq, out int frameStart)
    {
        seq = 0;
        frameStart = 0;
        int first = live.IndexOf((byte)'|');
        epochLength = first;
        if (first <= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = live[(first + 1)..];
        int second = rest.IndexOf((byte)'|');
        if (second <= 0 || !Utf8Parser.TryParse(rest[..second], out seq, out int consumed) || consumed != second || seq <= 0)
        {
            return false;
        }

        frameStart = first + 1 + second + 1;
        return true;
    }

    private static bool TryParseId(RedisValue id, out long seq)
    {
        seq = 0;
        string? text = id;
        int dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        return dash > 0 && long.TryParse(text.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out seq);
    }

    /// <summary>A room this node is subscribed to: its channel's queue and what the node knows of its sequence.</summary>
    private sealed class RoomChannel(string roomId, ChannelMessageQueue queue)
    {
        public string RoomId { get; } = roomId;

        public ChannelMessageQueue Queue { get; } = queue;

        public RoomSequence Sequence { get; } = new();
    }

    private static partial class Log
    {
        [LoggerMessage(5, LogLevel.Warning, "Room {RoomId}: {Missed} broadcasts could not be delivered on this node (the link to Redis broke and the room's log no longer holds them); its members were sent a realtime.gap message.", EventName = "BackplaneGapReported")]
        public static partial void GapReported(ILogger logger, string roomId, long? missed);

        [LoggerMessage(6, LogLevel.Warning, "Room {RoomId}: the broadcasts missed while the link to Redis was down could not be read from its log.", EventName = "BackplaneRepairFailed")]
        public static partial void RepairFailed(ILogger logger, string roomId, Exception exception);

        [LoggerMessage(7, LogLevel.Information, "Redis had forgotten this node (its data was lost, or it swept this node as dead); {Members} memberships were written again.", EventName = "BackplaneMembersReasserted")]
        public static partial void MembersReasserted(ILogger logger, int members);
    }
}
