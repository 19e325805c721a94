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

        // The states are parsed before the store's lock is taken; field updates and removed ids are read under it.
        PresenceChanges changes = PresenceChanges.None;
        TaskCompletionSource[] answered = [];
        bool filed = action switch
        {
            PresenceAction.Subscribed => _store.TryFileAnswer(PresenceWire.ReadStates(body), out changes, out answered),
            PresenceAction.Added or PresenceAction.Updated => _store.TrySetStates(PresenceWire.ReadStates(body), action == PresenceAction.Added, out changes),
            PresenceAction.FieldsUpdated => _store.TryMergeFields(PresenceWire.ReadFieldUpdates(body), out changes),
            PresenceAction.Removed => _store.TryRemove(PresenceWire.ReadRemovedIds(body), out changes),
            _ => false,
        };
        if (!filed)
        {
            return; // disposed (TryRead returns no other action)
        }

        Raise(PresenceEvents.Remove, changes.Removed, changes.Removed.Count);
        Raise(PresenceEvents.Add, changes.Added, changes.Added.Count);
        Raise(PresenceEvents.Update, changes.Updated, changes.Updated.Count);
        foreach (TaskCompletionSource waiter in answered)
        {
            waiter.TrySetResult();
        }
    }

    private void OnDisconnect(DisconnectReason reason)
    {
        foreach (TaskCompletionSource waiter in _store.Drop(reconcileNextAnswer: _restore))
        {
            waiter.TrySetException(new RealtimeException(
                $"The connection dropped ({reason}) before the server answered the presence subscribe. The request may still reach the server " +
                "after the reconnection; subscribe again to be sure, or set PresenceClientOptions.RestoreAfterReconnect."));
        }
    }

    private void OnConnected(string id)
    {
        if (_store.Connected(id, _restore))
        {
            // Not awaited: it waits for its turn to send, and the dispatcher must not wait for it.
            _ = RestoreAsync();
        }
    }

    /// <summary>Runs the event's handlers now (on the dispatcher), unless there is nothing to tell.</summary>
    private void Raise<TArgs>(PresenceEvent<TArgs> evt, TArgs args, int count) => _registry.RunNow(evt.Name, args, count, _logger, "presence ");
}
