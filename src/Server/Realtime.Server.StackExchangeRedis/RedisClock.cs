using System.Diagnostics;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// This node's reading of Redis's clock: the offset from the local monotonic clock to Redis's <c>TIME</c>, measured over a round trip
/// (so it is off by at most half of that round trip), and measured again at every heartbeat. It lets a script refuse work that reached
/// Redis after its caller stopped waiting, judged by Redis's own clock: the nodes' clocks never matter.
/// </summary>
internal sealed class RedisClock
{
    private long _offsetMs = long.MinValue; // Redis ms minus local ms; MinValue until measured
    private long _uncertaintyMs;

    /// <summary>Whether the offset has been measured.</summary>
    public bool IsKnown => Volatile.Read(ref _offsetMs) != long.MinValue;

    /// <summary>Local monotonic milliseconds.</summary>
    public static long LocalMs(long timestamp) => timestamp * 1000 / Stopwatch.Frequency;

    /// <summary>Redis's time (ms since the Unix epoch) that corresponds to the local <paramref name="timestamp"/>, earlier by the measurement's uncertainty.</summary>
    public long RedisMsAt(long timestamp) => LocalMs(timestamp) + Volatile.Read(ref _offsetMs) - Volatile.Read(ref _uncertaintyMs);

    /// <summary>Records a reading of Redis's <c>TIME</c> (<paramref name="redisMs"/>) taken between the local <paramref name="sent"/> and <paramref name="received"/>.</summary>
    public void Record(long redisMs, long sent, long received)
    {
        long sentMs = LocalMs(sent), receivedMs = LocalMs(received);
        long uncertainty = (receivedMs - sentMs + 1) / 2;
        Volatile.Write(ref _uncertaintyMs, uncertainty);
        Volatile.Write(ref _offsetMs, redisMs - (sentMs + uncertainty));
    }

    /// <summary>Reads Redis's <c>TIME</c> and records it.</summary>
    public async Task MeasureAsync(IDatabaseAsync database)
    {
        long sent = Stopwatch.GetTimestamp();
        RedisResult time = await database.ExecuteAsync("TIME").ConfigureAwait(false);
        long received = Stopwatch.GetTimestamp();
        Record(ToMs(time), sent, received);
    }

    /// <summary>The milliseconds of a <c>TIME</c> reply, or of a script's <c>{seconds, microseconds}</c>.</summary>
    public static long ToMs(RedisResult time)
    {
        var parts = (RedisResult[])time!;
        return ((long)parts[0] * 1000) + ((long)parts[1] / 1000);
    }
}
