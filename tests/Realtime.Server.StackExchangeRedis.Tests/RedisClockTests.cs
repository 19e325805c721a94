using System.Diagnostics;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>The node's reading of Redis's clock, without Redis: the publish deadline is computed from it.</summary>
public sealed class RedisClockTests
{
    private static long Ticks(double milliseconds) => (long)(milliseconds * Stopwatch.Frequency / 1000);

    [Fact]
    public void Redis_time_is_read_from_the_middle_of_the_round_trip_and_errs_early_by_half_of_it()
    {
        var clock = new RedisClock();
        Assert.False(clock.IsKnown);
        const long Sent = 1_000_000_000;
        clock.Record(redisMs: 50_000, Sent, Sent + Ticks(10)); // Redis said 50 000 ms, 5 ms after the send (± 5 ms)
        Assert.True(clock.IsKnown);
        Assert.Equal(50_000 - 5, clock.RedisMsAt(Sent + Ticks(5)));
        Assert.Equal(50_000 - 5 + 2_000, clock.RedisMsAt(Sent + Ticks(2_005))); // two seconds on

        clock.Forget();
        Assert.False(clock.IsKnown);
        Assert.Throws<InvalidOperationException>(() => clock.RedisMsAt(Sent));
    }

    [Fact]
    public void Timestamps_of_a_machine_up_for_months_do_not_overflow_the_arithmetic()
    {
        // A nanosecond clock counted from boot passes long.MaxValue / 1000 after about 107 days: the reading and the publish two
        // seconds later straddle that point.
        var clock = new RedisClock();
        long sent = (long.MaxValue / 1000) - Ticks(1_000);
        clock.Record(redisMs: 1_800_000_000_000, sent, sent + Ticks(2));
        Assert.Equal(1_800_000_000_000 - 1 + 2_000, clock.RedisMsAt(sent + Ticks(1) + Ticks(2_000)));
    }

    [Fact]
    public void A_slow_round_trip_does_not_replace_a_fresh_precise_reading_but_replaces_a_stale_one()
    {
        var clock = new RedisClock();
        const long Sent = 1_000_000_000;
        clock.Record(redisMs: 10_000, Sent, Sent + Ticks(2)); // ± 1 ms
        long later = Sent + Ticks(1_000);
        clock.Record(redisMs: 11_300, later, later + Ticks(600)); // ± 300 ms: kept out
        Assert.Equal(10_000 - 1 + 1_000, clock.RedisMsAt(Sent + Ticks(1) + Ticks(1_000)));

        long stale = Sent + Ticks(RedisClock.Freshness.TotalMilliseconds + 1_000);
        clock.Record(redisMs: 50_000, stale, stale + Ticks(600)); // the kept one is stale now: replaced
        Assert.Equal(50_000 - 300, clock.RedisMsAt(stale + Ticks(300)));
    }
}
