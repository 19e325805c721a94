using System.Threading.Tasks.Sources;

namespace Realtime.Server.Internal;

/// <summary>
/// A bounded queue with many writers and one reader that waits on it: the channel under each connection's send loop. It does
/// what a single-reader <c>BoundedChannel</c> of System.Threading.Channels does for the loop (never-blocking writes that fail when
/// full or completed, a wait that completes when an item arrives or the queue is completed, continuations on the thread pool),
/// in about a third of the memory: an idle connection's queue is this object, a lock and a small ring (which gives back what a
/// burst grew it to once it is drained), where the channel keeps eight objects. A wait is this object itself, reused.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class SingleReaderQueue<T> : IValueTaskSource<bool>
{
    /// <summary>A drained ring larger than this is given back (a burst's memory does not stay with an idle connection).</summary>
    private const int KeptCapacity = 16;

    private readonly Lock _lock = new();
    private readonly int _capacity;
    private T[] _ring = [];
    private int _head;
    private int _count;
    private bool _completed;
    private bool _waiting;
    private ManualResetValueTaskSourceCore<bool> _wait = new() { RunContinuationsAsynchronously = true };

    public SingleReaderQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
    }

    /// <summary>Items waiting.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Queues an item unless the queue is full or completed; wakes the reader if it waits.</summary>
    public bool TryWrite(T item)
    {
        lock (_lock)
        {
            if (_completed || _count == _capacity)
            {
                return false;
            }

            if (_count == _ring.Length)
            {
                Grow();
            }

            _ring[(_head + _count) % _ring.Length] = item;
            _count++;
            if (!_waiting)
            {
                return true;
            }

            _waiting = false;
        }

        _wait.SetResult(true);
        return true;
    }

    /// <summary>Takes the oldest item, if there is one.</summary>
    public bool TryRead(out T item)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                item = default!;
                return false;
            }

            item = _ring[_head];
            _ring[_head] = default!;
            _head = (_head + 1) % _ring.Length;
            if (--_count == 0 && _ring.Length > KeptCapacity)
            {
                _ring = [];
                _head = 0;
            }

            return true;
        }
    }

    /// <summary>Completes when an item can be read (<see langword="true"/>) or the queue is completed and empty (<see langword="false"/>). One waiter at a time.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _wait.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _wait.Version);
        }
    }

    /// <summary>No more items are accepted; the reader still gets those queued. Only the first call counts.</summary>
    public void TryComplete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false; // a waiting reader means the queue is empty
        }

        _wait.SetResult(false);
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _wait.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wait.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _wait.OnCompleted(continuation, state, token, flags);

    private void Grow()
    {
        var larger = new T[Math.Min(Math.Max(4, _ring.Length * 2), _capacity)];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
    }
}
