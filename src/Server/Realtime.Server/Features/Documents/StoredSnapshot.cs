namespace Realtime.Server;

/// <summary>
/// A document's content at one version, as a <see cref="DocumentStore"/> keeps it: the latest snapshot or a milestone. The content is
/// kept as named <b>fragments</b> of UTF-8 JSON; a type without fragment functions (every C# <see cref="IOtType"/>) has one fragment,
/// <see cref="DefaultFragment"/>, holding the whole content.
/// </summary>
/// <param name="Version">The version of the content: after the operations with versions 0 … Version−1.</param>
/// <param name="Type">The URI of the document's OT type.</param>
/// <param name="Fragments">Fragment name to its UTF-8 JSON.</param>
public sealed record StoredSnapshot(long Version, string Type, IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Fragments)
{
    /// <summary>The name of the one fragment of a type that keeps its content whole: <c>default</c>.</summary>
    public const string DefaultFragment = "default";

    /// <summary>When the content was committed; a store keeps it for milestones (<see cref="DocumentStore.TrimAsync"/> goes by it).
    /// <see langword="null"/> when unknown.</summary>
    public DateTimeOffset? Time { get; init; }
}
