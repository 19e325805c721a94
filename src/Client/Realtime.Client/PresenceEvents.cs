using System.Text.Json;

namespace Realtime.Client;

/// <summary>
/// The events of a <see cref="Presence"/>: other connections' states arriving, changing and leaving. Handlers run on the
/// connection's dispatcher, in order with the connection's own events; events are never replayed to late handlers.
/// </summary>
public static class PresenceEvents
{
    /// <summary><c>"add"</c>: connections set their first state (id → state). <see cref="Presence.OtherStates"/> already holds them.</summary>
    /// <example><code>presence.On(PresenceEvents.Add, states => { foreach (var (id, state) in states) Console.WriteLine($"{id} joined: {state}"); });</code></example>
    public static readonly PresenceEvent<IReadOnlyDictionary<string, JsonElement>> Add = new("add");

    /// <summary>
    /// <c>"update"</c>: connections replaced their state, or set one field of it (id → the whole new state, the field merged in).
    /// <see cref="Presence.OtherStates"/> already holds them.
    /// </summary>
    /// <example><code>presence.On(PresenceEvents.Update, states => cursors.Move(states));</code></example>
    public static readonly PresenceEvent<IReadOnlyDictionary<string, JsonElement>> Update = new("update");

    /// <summary><c>"remove"</c>: connections removed their state or left the room (their ids). <see cref="Presence.OtherStates"/> no longer holds them.</summary>
    /// <example><code>presence.On(PresenceEvents.Remove, ids => cursors.Hide(ids));</code></example>
    public static readonly PresenceEvent<IReadOnlyList<string>> Remove = new("remove");
}
