namespace Realtime.Server;

/// <summary>A document's record in a <see cref="DocumentStore"/>: there is one while the document exists.</summary>
/// <param name="Version">The document's version: the number of operations committed (a create counts).</param>
/// <param name="Type">The URI of the document's OT type.</param>
public sealed record DocumentRecord(long Version, string Type);
