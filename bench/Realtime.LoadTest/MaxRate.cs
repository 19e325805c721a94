namespace Realtime.LoadTest;

/// <summary>
/// A publisher held to a bounded window of unfinished broadcasts (sent, not yet delivered to every recipient), and the deliveries it
/// produces: the window is the only brake, so the rate is the highest the system sustains.
/// </summary>
internal sealed class MaxRate : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    private readonly int _maxMessages;
    private readonly int[] _remaining;
    private readonly SemaphoreSlim _window;
    private long _delivered;
    private long _measured;
    private long _sent;
    private long _sentMeasured;

    public MaxRate(int maxMessages, int recipients, int window)
    {
        _maxMessages = maxMessages;
        _remaining = new int[maxMessages];
        Array.Fill(_remaining, recipients);
        _window = new SemaphoreSlim(window, window);
    }

    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Deliveries during the measured window.</summary>
    public long Measured => Interlocked.Read(ref _measured);

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Broadcasts sent during the measured window.</summary>
    public long SentMeasured => Interlocked.Read(ref _sentMeasured);

    /// <summary>A delivery of broadcast <paramref name="sequence"/>; the last of its recipients frees its place in the window.</summary>
    public void Arrived(long sequence, bool measuring)
    {
        Interlocked.Increment(ref _delivered);
        if (measuring)
        {
            Interlocked.Increment(ref _measured);
        }

        if (Interlocked.Decrement(ref _remaining[sequence]) == 0)
        {
            _window.Release();
        }
    }

    /// <summary>Sends broadcast 0, 1, … whenever the window has room, until <paramref name="over"/> or the message bound.</summary>
    public async Task PublishAsync(Func<bool> measuring, Func<bool> over, Func<long, Task> send)
    {
        for (long seq = 0; !over() && seq < _maxMessages; seq++)
        {
            if (!await _window.WaitAsync(ReplyTimeout))
            {
                throw new TimeoutException("A broadcast did not reach all its recipients within " + ReplyTimeout);
            }

            await send(seq);
            Interlocked.Increment(ref _sent);
            if (measuring())
            {
                Interlocked.Increment(ref _sentMeasured);
            }
        }
    }

    public void Dispose() => _window.Dispose();
}
