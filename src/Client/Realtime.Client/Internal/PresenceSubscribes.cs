namespace Realtime.Client.Internal;

/// <summary>
/// The subscribes a <see cref="Presence"/> has queued on the current connection and not yet seen answered, and the
/// <see cref="Presence.SubscribeAsync"/> calls waiting for an answer.
/// </summary>
/// <remarks>Not thread-safe: its state is guarded by the lock of the <see cref="PresenceStore"/> that holds it. The waiters it hands out are
/// completed by the caller after leaving that lock.</remarks>
internal sealed class PresenceSubscribes
{
    private readonly List<Sent> _unanswered = [];              // oldest first
    private readonly List<TaskCompletionSource> _waiters = [];

    /// <summary>Whether <see cref="Presence.SubscribeAsync"/> has queued a subscribe (a restore then subscribes again).</summary>
    public bool Subscribed { get; set; }

    /// <summary>Files a subscribe about to be queued, and the call waiting for its answer, if any.</summary>
    /// <param name="localVersion">The version of the local state when it is queued.</param>
    /// <param name="waiter">The waiting call; <see langword="null"/> for a restore, which nobody waits for.</param>
    public Sent Add(long localVersion, TaskCompletionSource? waiter)
    {
        var request = new Sent(localVersion);
        _unanswered.Add(request);
        if (waiter is not null)
        {
            _waiters.Add(waiter);
        }

        return request;
    }

    /// <summary>Forgets a subscribe that could not be queued, and its waiting call.</summary>
    public void Remove(Sent request, TaskCompletionSource waiter)
    {
        _unanswered.Remove(request);
        _waiters.Remove(waiter);
    }

    /// <summary>The subscribe an answer is for: answers come in the order of the subscribes (one connection's messages are handled in order).</summary>
    /// <returns>The oldest unanswered subscribe, now answered; <see langword="null"/> if none is known (one sent on an earlier connection).</returns>
    public Sent? TakeOldest()
    {
        if (_unanswered.Count == 0)
        {
            return null;
        }

        Sent request = _unanswered[0];
        _unanswered.RemoveAt(0);
        return request;
    }

    /// <summary>Takes every waiting call, to complete after leaving the lock.</summary>
    public TaskCompletionSource[] TakeWaiters()
    {
        TaskCompletionSource[] waiting = [.. _waiters];
        _waiters.Clear();
        return waiting;
    }

    /// <summary>The connection dropped: answers to the subscribes sent on it will never come.</summary>
    /// <returns>The waiting calls, to fail after leaving the lock.</returns>
    public TaskCompletionSource[] Drop()
    {
        _unanswered.Clear();
        return TakeWaiters();
    }

    /// <summary>A subscribe queued on the connection, and the version of the local state when it was queued.</summary>
    internal sealed class Sent(long localVersion)
    {
        public long LocalVersion { get; } = localVersion;
    }
}
