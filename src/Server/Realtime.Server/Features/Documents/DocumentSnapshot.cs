using System.Text.Json.Nodes;

namespace Realtime.Server;

/// <summary>A document at one version, as the server-side API reads it (<see cref="DocumentService"/>).</summary>
/// <param name="Id">The document's id (its room's id).</param>
/// <param name="Version">Its version: 0 for a document that does not exist.</param>
/// <param name="Type">Its type's URI; <see langword="null"/> when it does not exist.</param>
/// <param name="Data">Its content (a node the caller owns); <see langword="null"/> when it does not exist.</param>
public sealed record DocumentSnapshot(string Id, long Version, string? Type, JsonNode? Data);
