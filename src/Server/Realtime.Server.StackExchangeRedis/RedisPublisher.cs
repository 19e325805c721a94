using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// Publishes room broadcasts: each one script that numbers it in the room's sequence, keeps it in the room's bounded log and publishes
/// it to the room's channel, all or nothing. The script carries a deadline in Redis's time: one that reaches Redis after its caller
/// was told it failed (Redis paused, or the link slow) does nothing at all, so a failed broadcast is never delivered later.
/// </summary>
internal sealed class RedisPublisher(RedisLink link, RedisKeys keys, RedisClock clock, RedisBackplaneOptions options, HistoryRooms history,
                                     RedisBackplaneMetrics metrics, ILogger logger)
{
    /// <summary>How long the sequence and log of a room without members are kept (a broadcast to an empty room), in seconds.</summary>
    private const int OrphanSeconds = 600;

    private static readonly RedisValue History = "1";
    private static readonly RedisValue NoHistory = "0";

    // KEYS: the room's sequence, its log, its members. ARGV: the frame, the log's length, the room's channel, the orphan expiry, the
    // deadline (Redis ms), '1' in a room that keeps a history. Past the deadline nothing is written and 0 is returned. The room's
    // epoch is created with its sequence (from Redis time): a sequence that starts again after Redis lost the room's state has a new
    // epoch, so no node mistakes its numbers for the old ones. Each log entry holds the epoch (e) and the frame (f), and in a room
    // with history the Redis time in ms (t: how old it is, for recovery). Returns the broadcast's sequence number.
    private const string Script = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        if now > tonumber(ARGV[5]) then return 0 end
        local epoch = redis.call('HGET', KEYS[1], 'e')
        if not epoch then
          epoch = t[1] .. '.' .. t[2]
          redis.call('HSET', KEYS[1], 'e', epoch)
        end
        local seq = redis.call('HINCRBY', KEYS[1], 's', 1)
        if ARGV[6] == '1' then
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', epoch, 'f', ARGV[1], 't', string.format('%d', now))
        elseif tonumber(ARGV[2]) > 0 then
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', epoch, 'f', ARGV[1])
        end
        if redis.call('EXISTS', KEYS[3]) == 0 then
          redis.call('EXPIRE', KEYS[1], ARGV[4])
          redis.call('EXPIRE', KEYS[2], ARGV[4])
        end
        redis.call('PUBLISH', ARGV[3], epoch .. '|' .. seq .. '|' .. ARGV[1])
        return seq
        """;

    /// <summary>
    /// The script must have run within this part of the timeout, by Redis's clock: the rest is for its answer to come back, and for the
    /// uncertainty of this node's reading of that clock.
    /// </summary>
    private long DeadlineMs => (long)(options.PublishTimeout.TotalMilliseconds * 3 / 4);

    public async ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
    {
        long called = metrics.MeasuresPublishDuration ? Stopwatch.GetTimestamp() : 0;
        byte[] frame = BackplaneCodec.EncodeBroadcast(broadcast);
        string roomId = broadcast.RoomId;

        // A room that keeps a history keeps its log long enough to recover from, and at least as long as a client may come back.
        bool keeps = history.Keeps(roomId);
        int logLength = keeps ? Math.Max(options.HistorySize, history.MaxMessages) : options.HistorySize;
        long orphanSeconds = keeps ? Math.Max(OrphanSeconds, (long)Math.Ceiling(history.MaxAge.TotalSeconds)) : OrphanSeconds;
        long started = 0;
        try
        {
            RedisResult result = await link.RunAsync(async redis =>
            {
                // The operation's own timeout starts now (the connection may have taken its own): so does the script's deadline.
                started = Stopwatch.GetTimestamp();
                IDatabase database = redis.GetDatabase();
                if (!clock.IsKnown)
                {
                    await clock.MeasureAsync(database).ConfigureAwait(false);
                }

                long deadline = clock.RedisMsAt(started) + DeadlineMs;
                return await database.ScriptEvaluateAsync(Script, [keys.Sequence(roomId), keys.Log(roomId), keys.Members(roomId)],
                    [frame, logLength, keys.Room(roomId).ToString(), orphanSeconds, deadline, keeps ? History : NoHistory]).ConfigureAwait(false);
            }, "publish a broadcast", cancellationToken).ConfigureAwait(false);
            if ((long)result == 0)
            {
                if (Stopwatch.GetElapsedTime(started).TotalMilliseconds < DeadlineMs)
                {
                    // Refused as late although it was not: the reading of Redis's clock is wrong (its clock stepped). Read it again.
                    clock.Forget();
                    RedisLog.ClockReadAgain(logger);
                }

                throw new RedisBackplaneException(
                    $"Redis received the broadcast too late to publish it within {options.PublishTimeout} (RedisBackplaneOptions.PublishTimeout); it was not published.");
            }
        }
        catch (RedisBackplaneException)
        {
            metrics.PublishFailed();
            throw;
        }

        metrics.Published(called);
    }
}
