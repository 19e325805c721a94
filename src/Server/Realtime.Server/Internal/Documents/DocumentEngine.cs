using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Realtime.Server.Internal.Documents;

/// <summary>
/// The document service's core, shared by the wire (<see cref="DocumentFeature"/>) and the server-side API (<see cref="DocumentService"/>):
/// the submit pipeline (<c>DocumentEngine.Submit.cs</c>) and the reads (<c>DocumentEngine.Reads.cs</c>), over the store of
/// <see cref="DocumentOptions.Store"/>.
/// </summary>
internal sealed partial class DocumentEngine(DocumentOptions options, ILogger logger, Action<string, Message, string?> broadcast)
{
    private readonly ActiveDocuments _active = new();

    public DocumentOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    /// <summary>Documents with a gate or a live snapshot on this node.</summary>
    public int ActiveCount => _active.Count;

    public void RoomEnded(string documentId) => _active.RoomEnded(documentId);

    private DocumentStore Store => Options.Store;

    /// <summary>The registered type of a stored URI.</summary>
    /// <exception cref="DocumentException">Code 2: the type is not registered.</exception>
    private IOtType TypeOf(string documentId, string uri)
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
    private async ValueTask<(string? Type, JsonNode? Data)> RebuildAsync(string documentId, StoredSnapshot? start, long version,
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

    /// <summary>A stored snapshot's content: its <c>default</c> fragment (the only one a C# type keeps).</summary>
    private static JsonNode? ParseFragments(StoredSnapshot snapshot)
        => snapshot.Fragments.TryGetValue(StoredSnapshot.DefaultFragment, out ReadOnlyMemory<byte> json) && !json.IsEmpty ? JsonNode.Parse(json.Span) : null;

    private static StoredSnapshot ToStored(long version, string type, byte[] json)
        => new(version, type, new Dictionary<string, ReadOnlyMemory<byte>>(1, StringComparer.Ordinal) { [StoredSnapshot.DefaultFragment] = json });
}
