using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary>
/// The document service's core, shared by the wire (<see cref="DocumentFeature"/>) and the server-side API (<see cref="DocumentService"/>),
/// over one store: a façade over the submit pipeline (<see cref="DocumentSubmitter"/>) and the reads
/// (<see cref="DocumentReader"/>), which share the types and snapshots (<see cref="DocumentSnapshots"/>) and this node's active documents.
/// </summary>
internal sealed class DocumentEngine
{
    private readonly ActiveDocuments _active = new();
    private readonly DocumentSubmitter _submitter;
    private readonly DocumentReader _reader;

    public DocumentEngine(DocumentOptions options, DocumentStore store, ILogger logger, Action<string, Message, string?> broadcast, TimeProvider time)
    {
        Options = options;
        Logger = logger;
        var snapshots = new DocumentSnapshots(options, store, logger);
        _submitter = new DocumentSubmitter(options, logger, snapshots, _active, broadcast, time);
        _reader = new DocumentReader(options, logger, snapshots);
    }

    public DocumentOptions Options { get; }

    public ILogger Logger { get; }

    /// <summary>Documents with a gate or a live snapshot on this node.</summary>
    public int ActiveCount => _active.Count;

    public void RoomEnded(string documentId) => _active.RoomEnded(documentId);

    /// <inheritdoc cref="DocumentSubmitter.SubmitAsync"/>
    public Task<SubmitResult> SubmitAsync(string documentId, ServerConnection? connection, SubmitRequest request,
                                          Func<SubmitResult, ValueTask>? reply, CancellationToken cancellationToken)
        => _submitter.SubmitAsync(documentId, connection, request, reply, cancellationToken);

    /// <inheritdoc cref="DocumentReader.ReadSnapshotAsync"/>
    public Task<SnapshotRead> ReadSnapshotAsync(string documentId, ServerConnection? connection, JsonElement request, CancellationToken cancellationToken)
        => _reader.ReadSnapshotAsync(documentId, connection, request, cancellationToken);

    /// <inheritdoc cref="DocumentReader.ReadOperationsAsync"/>
    public Task<IReadOnlyList<DocumentOperation>> ReadOperationsAsync(string documentId, ServerConnection? connection, JsonElement request, long from,
                                                                      long? to, CancellationToken cancellationToken)
        => _reader.ReadOperationsAsync(documentId, connection, request, from, to, cancellationToken);

    /// <inheritdoc cref="DocumentReader.CheckOperationsAsync"/>
    public ValueTask CheckOperationsAsync(string documentId, ServerConnection? connection, JsonElement request, IReadOnlyList<DocumentOperation> ops)
        => _reader.CheckOperationsAsync(documentId, connection, request, ops);

    /// <inheritdoc cref="DocumentReader.ReadHistoryAsync"/>
    public Task<SnapshotRead> ReadHistoryAsync(string documentId, ServerConnection? connection, JsonElement request, long version,
                                               CancellationToken cancellationToken)
        => _reader.ReadHistoryAsync(documentId, connection, request, version, cancellationToken);
}
