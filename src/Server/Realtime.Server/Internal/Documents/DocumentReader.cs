using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary>A snapshot as it goes out: <c>{id, v}</c>, with <c>type</c> and <c>data</c> (UTF-8 JSON) when the document exists.</summary>
internal readonly record struct SnapshotRead(long Version, string? Type, ReadOnlyMemory<byte> Data);

/// <summary>
/// The document reads: the latest snapshot (its stored JSON sent as it is when it is current), the committed
/// operations since a version, and the snapshot at a past version rebuilt from the newest milestone at or below it; each through its
/// read middleware.
/// </summary>
internal sealed class DocumentReader(DocumentOptions options, ILogger logger, DocumentSnapshots snapshots)
{
    private DocumentOptions Options { get; } = options;

    private ILogger Logger { get; } = logger;

    private DocumentSnapshots Snapshots { get; } = snapshots;

    private DocumentStore Store => Snapshots.Store;

    /// <summary>The latest snapshot (fetch and subscribe without a version), through <see cref="DocumentAction.ReadSnapshots"/> middleware.</summary>
    /// <exception cref="DocumentException">Middleware refused it, or the log cannot rebuild it.</exception>
    public async Task<SnapshotRead> ReadSnapshotAsync(string documentId, ServerConnection? connection, JsonElement request, CancellationToken cancellationToken)
    {
        // The snapshot first: a commit between the two reads makes the record newer (rebuilt from the log), never older.
        StoredSnapshot? stored = await Store.GetSnapshotAsync(documentId, cancellationToken).ConfigureAwait(false);
        DocumentRecord? record = await Store.GetRecordAsync(documentId, cancellationToken).ConfigureAwait(false);
        SnapshotRead read;
        if (record is null)
        {
            read = default;
        }
        else if (stored is not null && stored.Version >= record.Version
                 && stored.Fragments.TryGetValue(StoredSnapshot.DefaultFragment, out ReadOnlyMemory<byte> json))
        {
            read = new SnapshotRead(stored.Version, stored.Type, json); // the stored JSON goes out as it is, never parsed
        }
        else
        {
            (string? type, JsonNode? data) = await Snapshots.RebuildAsync(documentId, stored, record.Version, cancellationToken).ConfigureAwait(false);
            read = new SnapshotRead(record.Version, type, DocumentWire.Serialize(data));
        }

        await CheckSnapshotAsync(documentId, connection, request, read).ConfigureAwait(false);
        return read;
    }

    /// <summary>The committed operations from <paramref name="from"/> on (fetch and subscribe with a version), each through
    /// <see cref="DocumentAction.ReadOp"/> middleware.</summary>
    /// <exception cref="DocumentException">13 when the log no longer starts at <paramref name="from"/> (<see cref="DocumentOptions.Retention"/>).</exception>
    public async Task<IReadOnlyList<DocumentOperation>> ReadOperationsAsync(string documentId, ServerConnection? connection, JsonElement request, long from,
                                                                            long? to, CancellationToken cancellationToken)
    {
        IReadOnlyList<DocumentOperation> ops = await Store.GetOperationsAsync(documentId, from, to, cancellationToken).ConfigureAwait(false);
        if (ops.Count == 0 && to is null && (await Store.GetRecordAsync(documentId, cancellationToken).ConfigureAwait(false))?.Version > from)
        {
            // Nothing from `from` on, yet the document is past it: an op committed between the two reads (read again), or a log trimmed
            // past everything (still nothing).
            ops = await Store.GetOperationsAsync(documentId, from, to, cancellationToken).ConfigureAwait(false);
            if (ops.Count == 0)
            {
                throw new DocumentException(DocumentErrorCodes.MissingOps, $"Missing operations: the log holds none from version {from} (DocumentOptions.Retention)");
            }
        }

        if (ops.Count > 0 && ops[0].Version > from)
        {
            throw new DocumentException(DocumentErrorCodes.MissingOps, $"Missing operations: the log starts at version {ops[0].Version}, after {from} (DocumentOptions.Retention)");
        }

        await CheckOperationsAsync(documentId, connection, request, ops).ConfigureAwait(false);
        return ops;
    }

    /// <summary>Operations read from the log for one client, through <see cref="DocumentAction.ReadOp"/> middleware.</summary>
    public async ValueTask CheckOperationsAsync(string documentId, ServerConnection? connection, JsonElement request, IReadOnlyList<DocumentOperation> ops)
    {
        if (!DocumentMiddlewareRunner.Has(Options, DocumentAction.ReadOp))
        {
            return;
        }

        foreach (DocumentOperation op in ops)
        {
            await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.ReadOp, documentId, connection, request, Logger, context =>
            {
                context.Version = op.Version;
                context.Op = JsonNode.Parse(DocumentWire.OpMessage(op).DataUtf8);
            }).ConfigureAwait(false);
        }
    }

    /// <summary>The document as it was at <paramref name="version"/>: from the newest milestone at or below it, plus the log.</summary>
    /// <exception cref="DocumentException">17 when the version is beyond the document's; 13 when the log misses operations.</exception>
    public async Task<SnapshotRead> ReadHistoryAsync(string documentId, ServerConnection? connection, JsonElement request, long version,
                                                     CancellationToken cancellationToken)
    {
        DocumentRecord? record = await Store.GetRecordAsync(documentId, cancellationToken).ConfigureAwait(false);
        if (version > (record?.Version ?? 0))
        {
            throw new DocumentException(DocumentErrorCodes.VersionTooNew, "Requested version exceeds latest snapshot version");
        }

        SnapshotRead read = default;
        if (version > 0)
        {
            StoredSnapshot? milestone = await Store.GetMilestoneAsync(documentId, version, cancellationToken).ConfigureAwait(false);
            (string? type, JsonNode? data) = await Snapshots.RebuildAsync(documentId, milestone, version, cancellationToken).ConfigureAwait(false);
            read = new SnapshotRead(version, type, type is null ? default : DocumentWire.Serialize(data));
        }

        await CheckSnapshotAsync(documentId, connection, request, read).ConfigureAwait(false);
        return read;
    }

    private async ValueTask CheckSnapshotAsync(string documentId, ServerConnection? connection, JsonElement request, SnapshotRead read)
    {
        if (!DocumentMiddlewareRunner.Has(Options, DocumentAction.ReadSnapshots))
        {
            return;
        }

        await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.ReadSnapshots, documentId, connection, request, Logger, context =>
        {
            context.Version = read.Version;
            context.Snapshot = JsonNode.Parse(DocumentWire.SnapshotReply(0, null, documentId, read.Version, read.Type, read.Data).DataUtf8)?["data"];
        }).ConfigureAwait(false);
    }
}
