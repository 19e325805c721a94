namespace Realtime.Server;

/// <summary>One committed entry of a document's op log, as a <see cref="DocumentStore"/> keeps it.</summary>
/// <param name="Version">The version it was applied at (the document's version is one more after it).</param>
/// <param name="Source">The submitting connection's id (<c>src</c>), or <see langword="null"/> for a server-side submit.</param>
/// <param name="Sequence">The submitter's <c>seq</c> (0 for a server-side submit).</param>
/// <param name="Kind">What it did.</param>
/// <param name="Payload">Its value on the wire, as UTF-8 JSON: the operation, <c>{type, data}</c>, <c>true</c> or <c>{v, data}</c>.</param>
public sealed record DocumentOperation(long Version, string? Source, long Sequence, DocumentOperationKind Kind, ReadOnlyMemory<byte> Payload);
