using System.Text.Json.Nodes;

namespace Realtime.Client;

/// <summary>A document as it was at one version (the original's snapshot object <c>{id, v, type, data}</c>), from <see cref="SharedDocument.FetchHistorySnapshotAsync"/>.</summary>
public sealed class SharedDocumentSnapshot
{
    internal SharedDocumentSnapshot(string id, long version, string? typeUri, JsonNode? data)
    {
        Id = id;
        Version = version;
        TypeUri = typeUri;
        Data = data;
    }

    /// <summary>The document's id (its room's id).</summary>
    public string Id { get; }

    /// <summary>The version: the snapshot is the document after the ops of versions 0 to <see cref="Version"/> − 1.</summary>
    public long Version { get; }

    /// <summary>The type's URI; <see langword="null"/> when the document did not exist at that version.</summary>
    public string? TypeUri { get; }

    /// <summary>The content; <see langword="null"/> when the document did not exist. The caller owns it.</summary>
    public JsonNode? Data { get; }
}
