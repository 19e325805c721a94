using System.Collections.Immutable;
using System.Text.Json;

namespace Realtime.Client.Internal;

/// <summary>
/// What a presence message changed, as the presence raises it: <see cref="PresenceEvents.Remove"/> with <see cref="Removed"/>,
/// then <see cref="PresenceEvents.Add"/> with <see cref="Added"/>, then <see cref="PresenceEvents.Update"/> with
/// <see cref="Updated"/>; an empty one raises nothing.
/// </summary>
internal readonly record struct PresenceChanges(
    IReadOnlyList<string> Removed,
    IReadOnlyDictionary<string, JsonElement> Added,
    IReadOnlyDictionary<string, JsonElement> Updated)
{
    private static readonly ImmutableDictionary<string, JsonElement> NoStates = ImmutableDictionary<string, JsonElement>.Empty;

    /// <summary>Nothing to raise.</summary>
    public static PresenceChanges None { get; } = new([], NoStates, NoStates);

    public static PresenceChanges OfAdded(IReadOnlyDictionary<string, JsonElement> added) => None with { Added = added };

    public static PresenceChanges OfUpdated(IReadOnlyDictionary<string, JsonElement> updated) => None with { Updated = updated };

    public static PresenceChanges OfRemoved(IReadOnlyList<string> removed) => None with { Removed = removed };
}
