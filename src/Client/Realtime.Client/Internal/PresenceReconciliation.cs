using System.Collections.Immutable;
using System.Text.Json;

namespace Realtime.Client.Internal;

/// <summary>
/// What the first subscribe answer after a drop raises (<see cref="PresenceClientOptions.RestoreAfterReconnect"/>): its
/// differences from the states held before it. A pure function.
/// </summary>
internal static class PresenceReconciliation
{
    /// <summary>Compares an answer (this connection's ids already taken out) with the states held before it.</summary>
    /// <param name="held">The states held.</param>
    /// <param name="answer">The states of the answer.</param>
    /// <returns>Removed: held but not in the answer; added: in the answer but not held; updated: in both, with a different state.</returns>
    public static PresenceChanges Diff(ImmutableDictionary<string, JsonElement> held, ImmutableDictionary<string, JsonElement> answer)
    {
        string[] removed = [.. held.Keys.Where(id => !answer.ContainsKey(id))];
        ImmutableDictionary<string, JsonElement> added = answer.RemoveRange(held.Keys);
        ImmutableDictionary<string, JsonElement> updated = answer.Clear().AddRange(
            answer.Where(p => held.TryGetValue(p.Key, out JsonElement before) && !JsonElement.DeepEquals(before, p.Value)));
        return new PresenceChanges(removed, added, updated);
    }
}
