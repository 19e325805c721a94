using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary>
/// A document's content, as both <see cref="DocumentReader"/> and <see cref="DocumentSubmitter"/> need it: the registered type of a
/// stored URI, the content at a version rebuilt from a stored snapshot and the log, the live snapshot kept in <see cref="ActiveDocuments"/>,
/// and a snapshot's stored form.
/// </summary>
internal sealed class DocumentSnapshots(DocumentOptions options, DocumentStore store, ILogger logger)
{
    private DocumentOptions Options { get; } = options;

    private ILogger Logger { get; } = logger;

    /// <summary>The store every read and write of the documents goes to.</summary>
    public DocumentStore Store { get; } = store;

    /// <summary>The registered type of a stored URI.</summary>
    /// <exception cref="DocumentException">Code 2: the type is not registered.</exception>
    public IOtType TypeOf(string documentId, string uri)
    {
        if (Options.Types.TryGetValue(uri, out IOtType? type))
        {
            return type;
        }

        DocumentLog.StoredTypeUnknown(Logger, documentId, uri);
        throw new DocumentException(DocumentErrorCodes.UnknownType, "Unknown type");
    }

    /// <summary>The document's content at <paramref name="version"/>, from a stored snapshot (or none: version 0) and the operations
    /// after it. The result is a node the caller owns.</summary>
    /// <exception cref="DocumentException">Code 13 when the log misses operations; 9 when an operation does not apply; 2 for an unknown type.</exception>
    public async ValueTask<(string? Type, JsonNode? Data)> RebuildAsync(string documentId, StoredSnapshot? start, long version,
                                                                       CancellationToken cancellationToken)
    {
        long from = start?.Version ?? 0;
        string? typeUri = start?.Type;
        JsonNode? data = start is null ? null : ParseFragments(start);
        if (from == version)
        {
            return (typeUri, data);
        }

        IReadOnlyList<DocumentOperation> ops = await Store.GetOperationsAsync(documentId, from, version, cancellationToken).ConfigureAwait(false);
        if (ops.Count != version - from)
        {
            throw new DocumentException(DocumentErrorCodes.MissingOps, $"Missing operations: the log holds {ops.Count} of the {version - from} from version {from}");
        }

        foreach (DocumentOperation op in ops)
        {
            JsonNode? payload = JsonNode.Parse(op.Payload.Span);
            switch (op.Kind)
            {
                case DocumentOperationKind.Create:
                    typeUri = payload?["type"]?.GetValue<string>();
                    data = TypeOf(documentId, typeUri ?? "").Create(payload?["data"]?.DeepClone());
                    break;
                case DocumentOperationKind.Restore when typeUri is not null:
                    data = TypeOf(documentId, typeUri).Create(payload?["data"]?.DeepClone());
                    break;
                case DocumentOperationKind.Op when typeUri is not null && payload is not null:
                    try
                    {
                        data = TypeOf(documentId, typeUri).Apply(data, payload);
                    }
                    catch (OtException ex)
                    {
                        throw new DocumentException(DocumentErrorCodes.ApplyFailed, ex.Message);
                    }

                    break;
                case DocumentOperationKind.Delete:
                    typeUri = null;
                    data = null;
                    break;
                default:
                    throw new DocumentException(DocumentErrorCodes.MissingOps, $"The log's operation at version {op.Version} has nothing to apply to");
            }
        }

        return (typeUri, data);
    }

    /// <summary>The live snapshot at the record's version: the one in memory when the store agrees it is current, otherwise read (and
    /// rebuilt from the log when the stored snapshot is older than the record).</summary>
    public async ValueTask<JsonNode?> LiveSnapshotAsync(ActiveDocument document, DocumentRecord record, CancellationToken cancellationToken)
    {
        if (document.IsCurrent(record))
        {
            return document.Data;
        }

        StoredSnapshot? stored = await Store.GetSnapshotAsync(document.Id, cancellationToken).ConfigureAwait(false);
        if (stored is not null && stored.Version > record.Version)
        {
            stored = null; // cannot be: a store writes the snapshot with its record; rebuild from the log rather than trust it
        }

        (_, JsonNode? data) = await RebuildAsync(document.Id, stored, record.Version, cancellationToken).ConfigureAwait(false);
        document.Set(record.Version, record.Type, data, record.Incarnation);
        return data;
    }

    /// <summary>A snapshot to store: its JSON as the <c>default</c> fragment (the only one a C# type keeps), not copied.</summary>
    public static StoredSnapshot ToStored(long version, string type, byte[] json)
        => new(version, type, new Dictionary<string, ReadOnlyMemory<byte>>(1, StringComparer.Ordinal) { [StoredSnapshot.DefaultFragment] = json });

    /// <summary>A stored snapshot's content: its <c>default</c> fragment (the only one a C# type keeps).</summary>
    private static JsonNode? ParseFragments(StoredSnapshot snapshot)
        => snapshot.Fragments.TryGetValue(StoredSnapshot.DefaultFragment, out ReadOnlyMemory<byte> json) && !json.IsEmpty
            ? JsonNode.Parse(json.Span, documentOptions: new JsonDocumentOptions { MaxDepth = DocumentWire.StoredReadMaxDepth })
            : null;
}
