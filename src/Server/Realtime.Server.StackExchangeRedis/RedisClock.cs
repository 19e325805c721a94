using System.Diagnostics;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// This node's reading of Redis's clock: a <c>TIME</c> reply paired with the local monotonic timestamp halfway through its round trip
/// (so it is off by at most half of that round trip), read again at every heartbeat. It lets a script refuse work that reached Redis
/// after its caller stopped waiting, judged by Redis's own clock: the nodes' clocks never matter. Local times are only ever
/// subtracted from each other, so the monotonic clock's magnitude (it counts from boot) cannot overflow anything.
/// </summary>
internal sealed class RedisClock
{
    /// <summary>A reading older than this is replaced by any new one, however slow its round trip (clocks drift, and Redis's may step).</summary>
    internal static readonly TimeSpan Freshness = TimeSpan.FromSeconds(30);

    private Reading? _reading;

    /// <summary>Whether a reading is there.</summary>
    public bool IsKnown => Volatile.Read(ref _reading) is not null;

    /// <summary>
    /// Redis's time (ms since the Unix epoch) at the local <paramref name="timestamp"/>, early by the reading's uncertainty (never late:
    /// a deadline computed from it errs towards refusing, not towards publishing after the caller gave up).
    /// </summary>
    /// <exception cref="InvalidOperationException">No reading yet (see <see cref="IsKnown"/>).</exception>
    public long RedisMsAt(long timestamp)
    {
        Reading reading = Volatile.Read(ref _reading) ?? throw new InvalidOperationException("Redis's clock has not been read yet.");
        return reading.RedisMs + (long)Stopwatch.GetElapsedTime(reading.At, timestamp).TotalMilliseconds - reading.UncertaintyMs;
    }

    /// <summary>
    /// Records a reading of Redis's <c>TIME</c> (<paramref name="redisMs"/>) taken between the local <paramref name="sent"/> and
    /// <paramref name="received"/>. It replaces the one kept unless that one is fresh and this one much less precise (a slow round
    /// trip would otherwise narrow every deadline until the next heartbeat).
    /// </summary>
    public void Record(long redisMs, long sent, long received)
    {
        long roundTripMs = (long)Math.Ceiling(Stopwatch.GetElapsedTime(sent, received).TotalMilliseconds);
        var reading = new Reading(redisMs, sent + ((received - sent) / 2), (roundTripMs + 1) / 2);
        Reading? kept = Volatile.Read(ref _reading);
        if (kept is null || reading.UncertaintyMs <= Math.Max(2 * kept.UncertaintyMs, 5) || Stopwatch.GetElapsedTime(kept.At, received) > Freshness)
        {
            Volatile.Write(ref _reading, reading);
        }
    }

    /// <summary>Forgets the reading (the link to Redis was restored, perhaps to another server): the next publish reads the clock first.</summary>
    public void Forget() => Volatile.Write(ref _reading, null);

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

    /// <summary>Redis's time at the local timestamp <paramref name="At"/>, give or take <paramref name="UncertaintyMs"/>.</summary>
    private sealed record Reading(long RedisMs, long At, long UncertaintyMs);
}
