using System.Text.Json;
using System.Text.Json.Nodes;
using Realtime.Server.Internal.Documents;

namespace Realtime.Server;

/// <summary>
/// The document service from the server's side (<see cref="DocumentServerExtensions.GetDocumentService"/>): read documents and their
/// history, and change them as a client would. A change goes through the same pipeline as a client's (middleware with no connection,
/// limits of size, one submit at a time per document) and reaches every subscriber.
/// </summary>
/// <remarks>Thread-safe. Server-side changes carry no <c>src</c> and <c>seq</c>; a subscribed client applies them as remote operations.</remarks>
public sealed class DocumentService
{
    private readonly DocumentFeature _feature;

    internal DocumentService(DocumentFeature feature) => _feature = feature;

    private DocumentEngine Engine => _feature.Engine;

    /// <summary>The document's latest snapshot.</summary>
    /// <param name="documentId">The document (room) id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The snapshot; version 0 with no type and data when the document does not exist.</returns>
    /// <exception cref="DocumentException">Refused by <see cref="DocumentAction.ReadSnapshots"/> middleware.</exception>
    public async Task<DocumentSnapshot> FetchAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        SnapshotRead read = await Engine.ReadSnapshotAsync(documentId, null, Request(new JsonObject { ["a"] = 0 }), cancellationToken).ConfigureAwait(false);
        return ToSnapshot(documentId, read);
    }

    /// <summary>The committed operations with versions from <paramref name="from"/> up to, not including, <paramref name="to"/>.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="from">The first version.</param>
    /// <param name="to">The end (exclusive), or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The operations, oldest first.</returns>
    public async Task<IReadOnlyList<DocumentOperation>> GetOpsAsync(string documentId, long from, long? to = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        return await Engine.ReadOperationsAsync(documentId, null, Request(new JsonObject { ["a"] = 0, ["v"] = from }), from, to, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The document as it was at <paramref name="version"/> (after the operations 0 … version−1).</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="version">The version.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="DocumentException">Code 17 when the version is beyond the document's.</exception>
    public async Task<DocumentSnapshot> FetchHistorySnapshotAsync(string documentId, long version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        SnapshotRead read = await Engine.ReadHistoryAsync(documentId, null, Request(new JsonObject { ["a"] = 2, ["v"] = version }), version, cancellationToken)
            .ConfigureAwait(false);
        return ToSnapshot(documentId, read);
    }

    /// <summary>Submits an operation of the document's type, written against <paramref name="version"/> (transformed against what was
    /// committed since), and sends it to every subscriber.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="op">The operation (not kept).</param>
    /// <param name="version">The version it was written against; <see langword="null"/> for the current one.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The version it was applied at.</returns>
    /// <exception cref="DocumentException">Refused, with the protocol's code (for example 1: the document does not exist).</exception>
    public Task<long> SubmitAsync(string documentId, JsonNode op, long? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(op);
        return SubmitAsync(documentId, new JsonObject { ["op"] = op.DeepClone() }, version, cancellationToken);
    }

    /// <summary>Creates the document and sends the create to every subscriber.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="type">The type's name or URI (registered with <see cref="DocumentOptions.AddType"/>).</param>
    /// <param name="data">The initial data (not kept).</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The version the create was applied at (0).</returns>
    /// <exception cref="DocumentException">Code 0 when it exists, 2 for an unknown type.</exception>
    public Task<long> CreateAsync(string documentId, string type, JsonNode? data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        return SubmitAsync(documentId, new JsonObject { ["create"] = new JsonObject { ["type"] = type, ["data"] = data?.DeepClone() } }, 0, cancellationToken);
    }

    /// <summary>Deletes the document: its record, op log, snapshot and milestones are erased; subscribers get the <c>del</c>.</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The version the delete was applied at.</returns>
    /// <exception cref="DocumentException">Code 1 when it does not exist.</exception>
    public Task<long> DeleteAsync(string documentId, CancellationToken cancellationToken = default)
        => SubmitAsync(documentId, new JsonObject { ["del"] = true }, null, cancellationToken);

    /// <summary>Restores the document's content to what it was at <paramref name="version"/>, as a new version (the log is kept).</summary>
    /// <param name="documentId">The document.</param>
    /// <param name="version">The earlier version, above 0 and below the current one.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The version the restore was applied at.</returns>
    /// <exception cref="DocumentException">Code 29 for a version out of range.</exception>
    public async Task<long> RestoreAsync(string documentId, long version, CancellationToken cancellationToken = default)
    {
        DocumentSnapshot earlier = await FetchHistorySnapshotAsync(documentId, version, cancellationToken).ConfigureAwait(false);
        return await SubmitAsync(documentId, new JsonObject { ["restore"] = new JsonObject { ["v"] = version, ["data"] = earlier.Data } }, null, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<long> SubmitAsync(string documentId, JsonObject request, long? version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        request["a"] = 5;
        if (version is { } v)
        {
            request["v"] = v;
        }

        JsonElement element = Request(request);
        SubmitRequest submit = SubmitRequest.ServerSide(element, _feature.Options.Types);
        SubmitResult result = await Engine.SubmitAsync(documentId, null, submit, reply: null, cancellationToken).ConfigureAwait(false);
        return result.Version;
    }

    private static JsonElement Request(JsonObject request) => JsonSerializer.SerializeToElement(request);

    private static DocumentSnapshot ToSnapshot(string documentId, SnapshotRead read)
        => new(documentId, read.Version, read.Type, read.Type is null ? null : JsonNode.Parse(read.Data.Span));
}
