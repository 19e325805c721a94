using System.Collections.Immutable;
using System.Text.Json;
using Realtime.Client.Internal;

namespace Realtime.Client;

public sealed partial class Presence
{
    /// <summary>Adds a handler for a presence event.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event, from <see cref="PresenceEvents"/>.</param>
    /// <param name="handler">The handler; it runs on the connection's dispatcher, one event at a time. An exception it throws is logged.</param>
    /// <returns>Disposing it removes the handler.</returns>
    /// <example><code>using var sub = presence.On(PresenceEvents.Update, states => Render(presence.OtherStates));</code></example>
    public IDisposable On<TArgs>(PresenceEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: false);
    }

    /// <summary>Adds a handler that runs at most once, then is removed.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event, from <see cref="PresenceEvents"/>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>Disposing it removes the handler if it has not run.</returns>
    /// <example><code>presence.Once(PresenceEvents.Add, states => Console.WriteLine("someone arrived"));</code></example>
    public IDisposable Once<TArgs>(PresenceEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: true);
    }

    /// <summary>Removes every registration of <paramref name="handler"/> for the event, also one added with <c>Once</c>. Inside a handler it takes effect from the next event.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event.</param>
    /// <param name="handler">The handler passed to <c>On</c> or <c>Once</c>.</param>
    public void Off<TArgs>(PresenceEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _registry.Remove(evt.Name, handler);
    }

    // The handlers below run on the connection's dispatcher, one at a time and in the order of the connection's events.
    private void OnMessage(Message message)
    {
        if (!PresenceWire.TryRead(message, out PresenceAction action, out JsonElement body, out string? problem))
        {
            if (problem is not null)
            {
                ClientLog.PresenceMessageIgnored(_logger, problem);
            }

            return;
        }

        switch (action)
        {
            case PresenceAction.Subscribed:
                OnSubscribed(PresenceWire.ReadStates(body));
                break;
            case PresenceAction.Added:
            case PresenceAction.Updated:
                OnStates(PresenceWire.ReadStates(body), action == PresenceAction.Added ? PresenceEvents.Add : PresenceEvents.Update);
                break;
            case PresenceAction.FieldsUpdated:
                OnFieldUpdates(body);
                break;
            case PresenceAction.Removed:
                OnRemoved(body);
                break;
        }
    }

    private void OnSubscribed(ImmutableDictionary<string, JsonElement> states)
    {
        TaskCompletionSource[] answered;
        string[] removed = [];
        ImmutableDictionary<string, JsonElement> added = states.Clear();
        ImmutableDictionary<string, JsonElement> updated = added;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            // Answers come in the order of the subscribes (one connection's messages are handled in order).
            SentSubscribe? request = null;
            if (_unanswered.Count > 0)
            {
                request = _unanswered[0];
                _unanswered.RemoveAt(0);
            }

            ImmutableDictionary<string, JsonElement>.Builder others = states.ToBuilder();
            if (_ownId is not null && others.TryGetValue(_ownId, out JsonElement own))
            {
                others.Remove(_ownId);
                if (request?.LocalVersion == _localVersion)
                {
                    // The server's copy, unless a change requested after this subscribe is newer than the answer.
                    _local = own;
                }
            }

            // A former id of this connection is the server's copy from before a reconnection, kept until the server notices the drop.
            others.RemoveRange(_formerIds);
            ImmutableDictionary<string, JsonElement> next = others.ToImmutable();
            if (_reconcile)
            {
                _reconcile = false;
                removed = [.. _others.Keys.Where(id => !next.ContainsKey(id))];
                added = next.RemoveRange(_others.Keys);
                updated = updated.AddRange(next.Where(p => _others.TryGetValue(p.Key, out JsonElement before) && !JsonElement.DeepEquals(before, p.Value)));
            }

            _others = next;
            answered = [.. _waiters];
            _waiters.Clear();
        }

        Raise(PresenceEvents.Remove, removed, removed.Length);
        Raise(PresenceEvents.Add, added, added.Count);
        Raise(PresenceEvents.Update, updated, updated.Count);
        foreach (TaskCompletionSource waiter in answered)
        {
            waiter.TrySetResult();
        }
    }

    private void OnStates(ImmutableDictionary<string, JsonElement> states, PresenceEvent<IReadOnlyDictionary<string, JsonElement>> evt)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            states = states.RemoveRange(states.Keys.Where(IsOwnId));
            _others = _others.SetItems(states);
        }

        Raise(evt, states, states.Count);
    }

    private void OnFieldUpdates(JsonElement body)
    {
        ImmutableDictionary<string, JsonElement>.Builder merged = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            foreach ((string id, string key, JsonElement? value) in PresenceWire.ReadFieldUpdates(body))
            {
                // As the original: an update is dropped unless an object state is held for that connection.
                if (!IsOwnId(id) && _others.TryGetValue(id, out JsonElement state) && state.ValueKind == JsonValueKind.Object)
                {
                    merged[id] = PresenceWire.WithField(state, key, value);
                }
            }

            _others = _others.SetItems(merged);
        }

        Raise(PresenceEvents.Update, merged.ToImmutable(), merged.Count);
    }

    private void OnRemoved(JsonElement body)
    {
        string[] removed;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            // Only ids held: an id never seen (such as a former id of this connection) raises nothing.
            removed = [.. PresenceWire.ReadRemovedIds(body).Where(_others.ContainsKey).Distinct(StringComparer.Ordinal)];
            _others = _others.RemoveRange(removed);
        }

        Raise(PresenceEvents.Remove, removed, removed.Length);
    }

    private void OnDisconnect(DisconnectReason reason)
    {
        TaskCompletionSource[] waiting;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            // Answers to subscribes sent on the dropped connection will never come.
            _unanswered.Clear();
            _reconcile = _restore;
            waiting = [.. _waiters];
            _waiters.Clear();
        }

        foreach (TaskCompletionSource waiter in waiting)
        {
            waiter.TrySetException(new RealtimeException(
                $"The connection dropped ({reason}) before the server answered the presence subscribe. The request may still reach the server " +
                "after the reconnection; subscribe again to be sure, or set PresenceClientOptions.RestoreAfterReconnect."));
        }
    }

    private void OnConnected(string id)
    {
        bool restore;
        lock (_gate)
        {
            if (_disposed || id == _ownId)
            {
                return; // the connection the presence was created on
            }

            if (_ownId is not null)
            {
                _formerIds.Enqueue(_ownId);
                if (_formerIds.Count > FormerIdsKept)
                {
                    _formerIds.Dequeue();
                }
            }

            _ownId = id;
            restore = _restore && _connectedBefore && (_subscribed || _local is not null);
            _connectedBefore = true;
        }

        if (restore)
        {
            // Not awaited: it waits for its turn to send, and the dispatcher must not wait for it.
            _ = RestoreAsync();
        }
    }

    private bool IsOwnId(string id) => id == _ownId || _formerIds.Contains(id, StringComparer.Ordinal);

    /// <summary>Runs the event's handlers now (on the dispatcher), unless there is nothing to tell.</summary>
    private void Raise<TArgs>(PresenceEvent<TArgs> evt, TArgs args, int count)
    {
        if (count == 0)
        {
            return;
        }

        foreach (EventRegistry.Registration registration in _registry.Snapshot(evt.Name))
        {
            if (registration.TryClaim())
            {
                try
                {
                    ((Action<TArgs>)registration.Handler)(args);
                }
                catch (Exception ex)
                {
                    ClientLog.HandlerFailed(_logger, "presence " + evt.Name, ex);
                }
            }
        }
    }
}
