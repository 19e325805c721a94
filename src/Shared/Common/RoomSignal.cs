namespace Realtime.Internal;

/// <summary>
/// Lets one producer wait until a consumer frees room in a bounded queue. The producer arms the signal, tries once
/// more (the consumer may have freed room before it could see the waiter), and only then awaits; the consumer
/// signals each time it frees room. A mutable struct: keep it in a field and never copy it. Compiled into the server
/// and the client (one source, no public type).
/// </summary>
internal struct RoomSignal
{
    private TaskCompletionSource? _waiter;

    /// <summary>Publishes a fresh waiter; the task completes at the next <see cref="Signal"/>.</summary>
    public Task Arm()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, waiter);
        return waiter.Task;
    }

    /// <summary>Wakes the waiting producer, if there is one (cheap when there is none: one read).</summary>
    public void Signal()
    {
        if (Volatile.Read(ref _waiter) is not null)
        {
            Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
        }
    }

    /// <summary>Drops the waiter once the producer no longer waits.</summary>
    public void Disarm() => Volatile.Write(ref _waiter, null);
}
