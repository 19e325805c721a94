using System.Collections.Immutable;
using System.Text.Json;

namespace Realtime.Client.Internal;

/// <summary>
/// Everything a <see cref="Presence"/> holds — its local state, the others' states (<see cref="PresenceOtherStates"/>), this
/// connection's ids (<see cref="PresenceIdentity"/>), the subscribes not yet answered (<see cref="PresenceSubscribes"/>) —
/// behind one lock. Each method is one critical section of it.
/// </summary>
/// <remarks>Thread-safe. Nothing here waits, sends or runs user code: the presence sends, raises events and completes the
/// waiters it is handed after a method has returned, so no lock is held across an await or a handler. The three helpers are not
/// thread-safe; their state is guarded by this class's lock.</remarks>
internal sealed class PresenceStore
{
    private readonly Lock _gate = new();
    private readonly Presence _owner; // named by ObjectDisposedException
    private readonly PresenceIdentity _identity;
    private readonly PresenceOtherStates _others;
    private readonly PresenceSubscribes _subscribes = new();
    private JsonElement? _local;
    private long _localVersion; // counts changes of _local queued by the presence
    private bool _disposed;

    /// <param name="owner">The presence, named when a disposed one is used.</param>
    /// <param name="connectionId">The connection's id when the presence is created; <see langword="null"/> if it has not connected yet.</param>
    public PresenceStore(Presence owner, string? connectionId)
    {
        _owner = owner;
        _identity = new PresenceIdentity(connectionId);
        _others = new PresenceOtherStates(_identity);
    }

    /// <summary>See <see cref="Presence.LocalState"/>.</summary>
    public JsonElement? Local
    {
        get
        {
            lock (_gate)
            {
                return _local;
            }
        }
    }

    /// <summary>See <see cref="Presence.OtherStates"/>.</summary>
    public ImmutableDictionary<string, JsonElement> Others
    {
        get
        {
            lock (_gate)
            {
                return _others.Others;
            }
        }
    }

    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), _owner);

    /// <summary>Files a subscribe that <see cref="Presence.SubscribeAsync"/> is about to queue, and the call waiting for its answer.</summary>
    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    public PresenceSubscribes.Sent AddSubscribe(TaskCompletionSource answered)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return _subscribes.Add(_localVersion, answered);
        }
    }

    /// <summary>Forgets a subscribe that could not be queued, and the call waiting for it.</summary>
    public void RemoveSubscribe(PresenceSubscribes.Sent request, TaskCompletionSource answered)
    {
        lock (_gate)
        {
            _subscribes.Remove(request, answered);
        }
    }

    /// <summary>A subscribe of <see cref="Presence.SubscribeAsync"/> is queued: a restore subscribes again.</summary>
    public void MarkSubscribed()
    {
        lock (_gate)
        {
            _subscribes.Subscribed = true;
        }
    }

    /// <summary>The local state a change starts from.</summary>
    /// <exception cref="ObjectDisposedException">The presence is disposed.</exception>
    public JsonElement? LocalBeforeChange()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return _local;
        }
    }

    /// <summary>A change of the local state is queued.</summary>
    public void SetLocal(JsonElement? next)
    {
        lock (_gate)
        {
            _local = next;
            _localVersion++;
        }
    }

    /// <summary>What a restore sends: a subscribe, if <see cref="Presence.SubscribeAsync"/> queued one (it is then filed), and the local state.</summary>
    /// <returns><see langword="false"/> when the presence is disposed: nothing is sent.</returns>
    public bool TryStartRestore(out bool subscribe, out JsonElement? local)
    {
        subscribe = false;
        local = null;
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            subscribe = _subscribes.Subscribed;
            local = _local;
            if (subscribe)
            {
                _subscribes.Add(_localVersion, waiter: null);
            }

            return true;
        }
    }

    /// <summary>Files a subscribe answer.</summary>
    /// <param name="states">The answer's states.</param>
    /// <param name="changes">What to raise (only when the answer is the first after a drop, with restore).</param>
    /// <param name="answered">The waiting <see cref="Presence.SubscribeAsync"/> calls, to complete.</param>
    /// <returns><see langword="false"/> when the presence is disposed: nothing is filed.</returns>
    public bool TryFileAnswer(ImmutableDictionary<string, JsonElement> states, out PresenceChanges changes, out TaskCompletionSource[] answered)
    {
        changes = PresenceChanges.None;
        answered = [];
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            PresenceSubscribes.Sent? request = _subscribes.TakeOldest();
            changes = _others.FileAnswer(states, out JsonElement? own);
            if (own is not null && request?.LocalVersion == _localVersion)
            {
                // The server's copy, unless a change requested after this subscribe is newer than the answer.
                _local = own;
            }

            answered = _subscribes.TakeWaiters();
            return true;
        }
    }

    /// <summary>Files the states of an add or update message.</summary>
    /// <returns><see langword="false"/> when the presence is disposed: nothing is filed.</returns>
    public bool TrySetStates(ImmutableDictionary<string, JsonElement> states, bool added, out PresenceChanges changes)
    {
        changes = PresenceChanges.None;
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            states = _others.Set(states);
        }

        changes = added ? PresenceChanges.OfAdded(states) : PresenceChanges.OfUpdated(states);
        return true;
    }

    /// <summary>Merges the field updates of a message.</summary>
    /// <returns><see langword="false"/> when the presence is disposed: nothing is merged.</returns>
    public bool TryMergeFields(IEnumerable<(string Id, string Key, JsonElement? Value)> updates, out PresenceChanges changes)
    {
        changes = PresenceChanges.None;
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            changes = PresenceChanges.OfUpdated(_others.MergeFields(updates));
            return true;
        }
    }

    /// <summary>Removes the states of a remove message.</summary>
    /// <returns><see langword="false"/> when the presence is disposed: nothing is removed.</returns>
    public bool TryRemove(IEnumerable<string> ids, out PresenceChanges changes)
    {
        changes = PresenceChanges.None;
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            changes = PresenceChanges.OfRemoved(_others.Remove(ids));
            return true;
        }
    }

    /// <summary>The connection dropped: answers to the subscribes sent on it will never come.</summary>
    /// <param name="reconcileNextAnswer">Whether the next answer raises its differences as events (restore).</param>
    /// <returns>The waiting <see cref="Presence.SubscribeAsync"/> calls, to fail; none once disposed.</returns>
    public TaskCompletionSource[] Drop(bool reconcileNextAnswer)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return [];
            }

            _others.ReconcileNextAnswer = reconcileNextAnswer;
            return _subscribes.Drop();
        }
    }

    /// <summary>The connection is connected with <paramref name="id"/>.</summary>
    /// <param name="id">The connection's id.</param>
    /// <param name="restoreEnabled">Whether <see cref="PresenceClientOptions.RestoreAfterReconnect"/> is set.</param>
    /// <returns>Whether to restore: a reconnection, with restore, and something to restore.</returns>
    public bool Connected(string id, bool restoreEnabled)
    {
        lock (_gate)
        {
            // TryMoveTo refuses the id of the connection the presence was created on.
            if (_disposed || !_identity.TryMoveTo(id, out bool reconnected))
            {
                return false;
            }

            return restoreEnabled && reconnected && (_subscribes.Subscribed || _local is not null);
        }
    }

    /// <summary>Marks the presence disposed.</summary>
    /// <param name="waiting">The waiting <see cref="Presence.SubscribeAsync"/> calls, to fail.</param>
    /// <returns><see langword="false"/> when it already was.</returns>
    public bool TryDispose(out TaskCompletionSource[] waiting)
    {
        waiting = [];
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            _disposed = true;
            waiting = _subscribes.TakeWaiters();
            return true;
        }
    }
}
