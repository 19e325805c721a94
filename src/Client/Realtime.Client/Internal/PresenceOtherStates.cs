using System.Collections.Immutable;
using System.Text.Json;

namespace Realtime.Client.Internal;

/// <summary>
/// The other connections' states a <see cref="Presence"/> holds, and how each presence message changes them. Each method
/// returns what it changed, for the presence to raise as events; this connection's own ids (<see cref="PresenceIdentity"/>)
/// are never filed as another's.
/// </summary>
/// <remarks>Not thread-safe: its state is guarded by the lock of the <see cref="PresenceStore"/> that holds it, and the events
/// are raised after that lock is left. <see cref="Others"/> is an immutable snapshot, handed out as is.</remarks>
internal sealed class PresenceOtherStates(PresenceIdentity identity)
{
    /// <summary>Connection id → state, without this connection's own ids.</summary>
    public ImmutableDictionary<string, JsonElement> Others { get; private set; } = ImmutableDictionary.Create<string, JsonElement>(StringComparer.Ordinal);

    /// <summary>Whether the next subscribe answer raises its differences from <see cref="Others"/> as events (a restore after a drop).</summary>
    public bool ReconcileNextAnswer { get; set; }

    /// <summary>Files a subscribe answer: <see cref="Others"/> becomes the answer less this connection's ids.</summary>
    /// <param name="states">The answer's states.</param>
    /// <param name="own">The answer's state for this connection's current id, if it has one.</param>
    /// <returns>The differences to raise, when <see cref="ReconcileNextAnswer"/> was set; otherwise nothing.</returns>
    public PresenceChanges FileAnswer(ImmutableDictionary<string, JsonElement> states, out JsonElement? own)
    {
        own = null;
        ImmutableDictionary<string, JsonElement>.Builder others = states.ToBuilder();
        if (identity.Current is string id && others.TryGetValue(id, out JsonElement state))
        {
            others.Remove(id);
            own = state;
        }

        // A former id of this connection is the server's copy from before a reconnection, kept until the server notices the drop.
        others.RemoveRange(identity.FormerIds);
        ImmutableDictionary<string, JsonElement> next = others.ToImmutable();
        PresenceChanges changes = ReconcileNextAnswer ? PresenceReconciliation.Diff(Others, next) : PresenceChanges.None;
        ReconcileNextAnswer = false;
        Others = next;
        return changes;
    }

    /// <summary>Files added or updated states.</summary>
    /// <returns>The states filed: those of <paramref name="states"/> that are not this connection's.</returns>
    public ImmutableDictionary<string, JsonElement> Set(ImmutableDictionary<string, JsonElement> states)
    {
        states = states.RemoveRange(states.Keys.Where(identity.IsOwn));
        Others = Others.SetItems(states);
        return states;
    }

    /// <summary>Merges field updates into the states held.</summary>
    /// <returns>The merged states, whole.</returns>
    public ImmutableDictionary<string, JsonElement> MergeFields(IEnumerable<(string Id, string Key, JsonElement? Value)> updates)
    {
        ImmutableDictionary<string, JsonElement>.Builder merged = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        foreach ((string id, string key, JsonElement? value) in updates)
        {
            // As the original: an update is dropped unless an object state is held for that connection.
            if (!identity.IsOwn(id) && Others.TryGetValue(id, out JsonElement state) && state.ValueKind == JsonValueKind.Object)
            {
                merged[id] = PresenceWire.WithField(state, key, value);
            }
        }

        Others = Others.SetItems(merged);
        return merged.ToImmutable();
    }

    /// <summary>Removes states.</summary>
    /// <returns>The ids removed, each once: only ids held, so an id never seen (such as a former id of this connection) raises nothing.</returns>
    public string[] Remove(IEnumerable<string> ids)
    {
        string[] removed = [.. ids.Where(Others.ContainsKey).Distinct(StringComparer.Ordinal)];
        Others = Others.RemoveRange(removed);
        return removed;
    }
}
