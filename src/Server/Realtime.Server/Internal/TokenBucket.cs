namespace Realtime.Server.Internal;

/// <summary>
/// A token bucket on <see cref="TimeProvider"/> timestamps, refilled by elapsed time when a token is asked for: no timer.
/// Unlike a limiter that only says yes or no, it says how long until the next token, so that the receive loop can slow
/// a sender down (stop reading its socket) instead of closing it. Used by one thread at a time (a connection's receive loop).
/// </summary>
internal struct TokenBucket
{
    private readonly double _perSecond;
    private readonly int _size;
    private readonly long _frequency;
    private double _tokens;
    private long _last;

    /// <param name="perSecond">Tokens added per second (at least 1).</param>
    /// <param name="size">The most tokens the bucket holds; it starts full.</param>
    /// <param name="timestampFrequency">The frequency of the timestamps passed in (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    public TokenBucket(int perSecond, int size, long timestampFrequency)
    {
        _perSecond = perSecond;
        _size = size;
        _frequency = timestampFrequency;
        _tokens = size;
        _last = long.MinValue;
    }

    /// <summary>Takes a token if one is there.</summary>
    /// <param name="now">The current timestamp.</param>
    /// <returns><see cref="TimeSpan.Zero"/> when a token was taken; otherwise how long until one will be there (nothing is taken).</returns>
    public TimeSpan TryTake(long now)
    {
        if (_last != long.MinValue && now > _last)
        {
            _tokens = Math.Min(_size, _tokens + ((now - _last) * _perSecond / _frequency));
        }

        _last = Math.Max(_last, now);
        if (_tokens >= 1 - 1e-9) // a hair of slack for floating-point rounding of the wait below
        {
            _tokens = Math.Max(0, _tokens - 1);
            return TimeSpan.Zero;
        }

        // Round up to a whole tick, so that waiting exactly this long always finds the token.
        return TimeSpan.FromTicks((long)Math.Ceiling((1 - _tokens) / _perSecond * TimeSpan.TicksPerSecond));
    }
}
