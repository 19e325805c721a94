namespace Realtime.TestSupport;

/// <summary>A thread-safe, append-only list that lets a test await a condition on its items (checked at every append): no polling, no sleeps.</summary>
public sealed class WatchedList<T>
{
    private readonly Lock _gate = new();
    private readonly List<T> _items = [];
    private readonly List<(Func<IReadOnlyList<T>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    /// <summary>A snapshot of the items.</summary>
    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_gate)
            {
                return _items.ToArray();
            }
        }
    }

    public void Add(T item)
    {
        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            _items.Add(item);
            _waiters.RemoveAll(w =>
            {
                if (!w.Condition(_items))
                {
                    return false;
                }

                ready.Add(w.Done);
                return true;
            });
        }

        ready.ForEach(d => d.TrySetResult());
    }

    /// <summary>Completes when <paramref name="condition"/> holds; fails after the default timeout naming <paramref name="what"/> and the items so far.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<T>, bool> condition, string what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_items))
            {
                return;
            }

            _waiters.Add((condition, done));
        }

        try
        {
            await done.Task.DefaultTimeout(what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} So far: {string.Join(", ", Items.TakeLast(30))}", ex);
        }
    }
}
