namespace Realtime.Server.Internal;

/// <summary>
/// One timer for the heartbeat of every connection (no timer per connection). Each tick asks every
/// accepted connection whether a <c>ping</c> is due or its oldest unanswered ping has expired.
/// The tick is a quarter of the shorter of the ping interval and timeout (10 ms to 1 s), so a ping
/// is at most one tick late and a timeout is detected at most one tick late.
/// </summary>
internal sealed class HeartbeatTimer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly Lock _gate = new();
    private Action<long>? _onTick;
    private ITimer? _timer;
    private bool _disposed;

    public HeartbeatTimer(TimeProvider time, RealtimeOptions options)
    {
        _time = time;
        TimeSpan shortest = options.PingInterval < options.PingTimeout ? options.PingInterval : options.PingTimeout;
        _period = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
    }

    /// <summary>Starts ticking (once); <paramref name="onTick"/> receives <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public void EnsureStarted(Action<long> onTick)
    {
        if (Volatile.Read(ref _timer) is not null)
        {
            return;
        }

        lock (_gate)
        {
            if (_timer is null && !_disposed)
            {
                _onTick = onTick;
                _timer = _time.CreateTimer(static s => ((HeartbeatTimer)s!).Tick(), this, _period, _period);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }

    private void Tick() => _onTick?.Invoke(_time.GetTimestamp());
}
