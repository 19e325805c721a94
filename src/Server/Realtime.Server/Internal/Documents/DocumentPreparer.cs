using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Realtime.Internal.Ot;

namespace Realtime.Server.Internal.Documents;

/// <summary>A submit made ready to write: its result, and the commit (or the delete) the store is to settle.</summary>
/// <param name="Result">What the submit comes to once written (for a resend, at once: nothing is written).</param>
/// <param name="Commit">The commit to write; <see langword="null"/> for a resend or a delete.</param>
/// <param name="DeleteVersion">For a delete, the version the record must have; otherwise <see langword="null"/>.</param>
internal sealed record PreparedSubmit(SubmitResult Result, DocumentCommit? Commit, long? DeleteVersion)
{
    public static PreparedSubmit Resend(SubmitResult result) => new(result, null, null);
}

/// <summary>
/// Steps 3–5 of the submit pipeline (docs/documents.md) up to the store's write: the record, the version checks, the transform, the
/// apply to the live snapshot and the <see cref="DocumentAction.Commit"/> middleware. It moves the live snapshot ahead of the store; the
/// writer (<see cref="DocumentSubmitter"/>) drops it when the write does not happen.
/// </summary>
internal sealed class DocumentPreparer(DocumentOptions options, ILogger logger, DocumentSnapshots snapshots, TimeProvider time)
{
    private DocumentOptions Options { get; } = options;

    private ILogger Logger { get; } = logger;

    private DocumentSnapshots Snapshots { get; } = snapshots;

    private DocumentStore Store => Snapshots.Store;

    /// <summary>
    /// Whether <paramref name="request"/> can be made ready from what this node holds, without reading the store: an op not newer than
    /// the record it last knew, with every op since its version kept. Such submits are prepared one after the other and written together.
    /// </summary>
    public static bool PreparesFromMemory(ActiveDocument document, SubmitRequest request)
        => request.Kind == DocumentOperationKind.Op && document.Assumed is { } assumed && request.Version is { } version && version <= assumed.Version
           && (version == assumed.Version || document.Recent(version, assumed) is not null);

    public async Task<PreparedSubmit> PrepareAsync(ActiveDocument document, ServerConnection? connection, SubmitRequest request,
                                                   CancellationToken cancellationToken)
    {
        string id = document.Id;

        // An op is written against the record this node last knew, unless it names a newer version (another node has moved on): the
        // store's compare-and-set settles whether that record is still the store's (a refusal invalidates it, and the retry reads).
        // Every other kind reads the record: its checks (already created, does not exist, the delete's version) are not settled there.
        DocumentRecord? record = request.Kind == DocumentOperationKind.Op && document.Assumed is { } assumed && request.Version <= assumed.Version
            ? assumed
            : await Store.GetRecordAsync(id, cancellationToken).ConfigureAwait(false);
        long current = record?.Version ?? 0;
        long version;
        if (request.Version is { } sent)
        {
            version = sent;
        }
        else if (request.Kind == DocumentOperationKind.Create && record is not null)
        {
            // A create without a version on an existing document: a resend of one that was committed, or a late one.
            if (request.Source is not null
                && await Store.FindOperationAsync(id, request.Source, request.Sequence, cancellationToken).ConfigureAwait(false) is { } earlier)
            {
                return PreparedSubmit.Resend(new SubmitResult(earlier.Version, earlier.Source, earlier.Sequence, null, []));
            }

            throw new DocumentException(DocumentErrorCodes.AlreadyCreated, "Invalid op submitted. Document already created");
        }
        else
        {
            version = current;
        }

        if (version > current)
        {
            throw new DocumentException(DocumentErrorCodes.VersionTooNew, "Invalid op submitted. Op version newer than current snapshot");
        }

        JsonNode? op = request.Kind == DocumentOperationKind.Op ? request.ParsePayload() : null;
        if (request.Kind == DocumentOperationKind.Op && op is null)
        {
            throw new DocumentException(DocumentErrorCodes.InvalidOp, "Invalid op: null");
        }

        bool transformed = false;
        IReadOnlyList<CommittedOp> against = [];
        if (version < current)
        {
            // The ops this node committed (or read) last, when the live snapshot is current; else the log.
            against = document.Recent(version, record!) ?? await ReadOperationsAsync(document, version, current, cancellationToken).ConfigureAwait(false);
            if (against.Count != current - version)
            {
                throw new DocumentException(DocumentErrorCodes.MissingOps, $"Missing operations: the log holds {against.Count} of the {current - version} from version {version}");
            }

            List<JsonNode>? others = null;
            foreach (CommittedOp earlier in against)
            {
                DocumentOperation committed = earlier.Operation;
                if (request.Source is not null && committed.Source == request.Source && committed.Sequence == request.Sequence)
                {
                    return PreparedSubmit.Resend(new SubmitResult(committed.Version, committed.Source, committed.Sequence, null, [])); // a resend: acknowledged, not applied again
                }

                if (committed.Version != version)
                {
                    throw new DocumentException(DocumentErrorCodes.TransformVersionMismatch, "Invalid op version during the transform");
                }

                switch (committed.Kind)
                {
                    case DocumentOperationKind.Delete:
                        throw new DocumentException(DocumentErrorCodes.WasDeleted, "Document was deleted");
                    case DocumentOperationKind.Restore:
                        throw new DocumentException(DocumentErrorCodes.WasRestored, "Document was restored, please refetch");
                    case DocumentOperationKind.Create:
                        throw new DocumentException(DocumentErrorCodes.AlreadyCreated, "Document was created remotely");
                    case DocumentOperationKind.Op when request.Kind == DocumentOperationKind.Create:
                        throw new DocumentException(DocumentErrorCodes.AlreadyCreated, "Document was created remotely");
                    case DocumentOperationKind.Op when op is not null:
                        (others ??= new List<JsonNode>(against.Count)).Add(earlier.Parsed);
                        break;
                    default:
                        break;
                }

                version++;
            }

            if (others is not null)
            {
                op = Transform(id, record!.Type, op!, others); // against every op since its version, in one pass
                transformed = true;
            }
        }

        if (request.Kind == DocumentOperationKind.Create && record is not null)
        {
            throw new DocumentException(DocumentErrorCodes.AlreadyCreated, "Invalid op submitted. Document already created");
        }

        if (request.Kind != DocumentOperationKind.Create && record is null)
        {
            throw new DocumentException(DocumentErrorCodes.DoesNotExist, "Document does not exist");
        }

        IOtType type = request.CreateType ?? Snapshots.TypeOf(id, record!.Type);
        await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.Apply, id, connection, request.Request, Logger, context =>
        {
            context.Op = op;
            context.Version = version;
        }).ConfigureAwait(false);

        // From the apply (in place, on the live snapshot) until the store has the write, any refusal or failure — the size limit, the
        // Commit middleware, a serializer's or the store's exception, a cancellation — leaves the live snapshot changed by an op that
        // was never written: it is dropped (here, or by the writer), and the next submit reads the stored one.
        string? incarnation = request.Kind == DocumentOperationKind.Create ? Guid.NewGuid().ToString("N") : record?.Incarnation;
        try
        {
            (DocumentOperation entry, JsonNode? data, byte[]? json) = await ApplyAsync(document, record, request, type, op, transformed, version, cancellationToken).ConfigureAwait(false);
            await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.Commit, id, connection, request.Request, Logger, context => FillOp(context, entry))
                .ConfigureAwait(false);
            var kept = new CommittedOp(entry);
            var result = new SubmitResult(version, request.Source, request.Sequence, kept, against);
            if (request.Kind == DocumentOperationKind.Delete)
            {
                return new PreparedSubmit(result, null, current);
            }

            // The live state moves now, ahead of the store, so that the next submit in the same group is prepared against it.
            long next = version + 1;
            StoredSnapshot snapshot = DocumentSnapshots.ToStored(next, type.Uri, json!) with { Time = time.GetUtcNow() };
            StoredSnapshot? milestone = Options.MilestoneInterval > 0 && next % Options.MilestoneInterval == 0 ? snapshot : null;
            document.Set(next, type.Uri, data, incarnation);
            document.Remember(kept);
            return new PreparedSubmit(result, new DocumentCommit(entry, type.Uri, snapshot, milestone) { Incarnation = incarnation }, null);
        }
        catch
        {
            document.Invalidate();
            throw;
        }
    }

    /// <summary>Step 5's apply: the log entry, the new live snapshot and its JSON (for the store and the size limit).</summary>
    private async ValueTask<(DocumentOperation Entry, JsonNode? Data, byte[]? Json)> ApplyAsync(ActiveDocument document, DocumentRecord? record, SubmitRequest request,
                                                                                               IOtType type, JsonNode? op, bool transformed, long version,
                                                                                               CancellationToken cancellationToken)
    {
        JsonNode? data = null;
        ReadOnlyMemory<byte> payload;
        switch (request.Kind)
        {
            case DocumentOperationKind.Create:
                data = CreateSnapshot(type, request.ParsePayload());
                payload = DocumentPayloads.Create(type.Uri, request.Payload);
                break;
            case DocumentOperationKind.Restore:
                if (request.RestoreVersion <= 0 || request.RestoreVersion >= record!.Version)
                {
                    throw new DocumentException(DocumentErrorCodes.InvalidRestoreVersion,
                        $"Target version {request.RestoreVersion} is invalid. Current version is {record!.Version}");
                }

                if (request.Payload.IsEmpty)
                {
                    throw new DocumentException(DocumentErrorCodes.MissingRestoreData, "Restore data is missing");
                }

                data = CreateSnapshot(type, request.ParsePayload());
                payload = DocumentPayloads.Restore(request.RestoreVersion, request.Payload);
                break;
            case DocumentOperationKind.Delete:
                payload = "true"u8.ToArray();
                break;
            default:
                JsonNode? snapshot = await Snapshots.LiveSnapshotAsync(document, record!, cancellationToken).ConfigureAwait(false);
                try
                {
                    data = type.Apply(snapshot, op!);
                }
                catch (Exception ex) when (ex is not OperationCanceledException) // a type's failure, whatever it throws
                {
                    throw new DocumentException(DocumentErrorCodes.ApplyFailed, ex.Message);
                }

                payload = transformed ? DocumentWire.Serialize(op) : request.Payload;
                break;
        }

        var entry = new DocumentOperation(version, request.Source, request.Sequence, request.Kind, payload);
        if (request.Kind == DocumentOperationKind.Delete)
        {
            return (entry, null, null);
        }

        byte[] json = DocumentWire.SerializeSnapshot(data); // and the depth limit
        if (json.Length > Options.MaxSnapshotBytes)
        {
            throw new DocumentException(DocumentErrorCodes.Unknown,
                $"Snapshot too large: {json.Length} bytes after this op, more than the limit of {Options.MaxSnapshotBytes} (DocumentOptions.MaxSnapshotBytes)");
        }

        return (entry, data, json);
    }

    /// <summary>Reads committed operations from the log, and keeps them for the submits after this one.</summary>
    private async Task<CommittedOp[]> ReadOperationsAsync(ActiveDocument document, long from, long to, CancellationToken cancellationToken)
    {
        CommittedOp[] ops = CommittedOp.Wrap(await Store.GetOperationsAsync(document.Id, from, to, cancellationToken).ConfigureAwait(false));
        foreach (CommittedOp op in ops)
        {
            document.Remember(op);
        }

        return ops;
    }

    private JsonNode Transform(string documentId, string typeUri, JsonNode op, IReadOnlyList<JsonNode> committed)
    {
        IOtType type = Snapshots.TypeOf(documentId, typeUri);
        try
        {
            return OtSequence.TransformAgainst(type, op, committed, OtSide.Left);
        }
        catch (Exception ex) when (ex is not OperationCanceledException) // a type's failure, whatever it throws
        {
            throw new DocumentException(DocumentErrorCodes.TransformFailed, "Op transform failed: " + ex.Message);
        }
    }

    private static JsonNode? CreateSnapshot(IOtType type, JsonNode? data)
    {
        try
        {
            return type.Create(data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new DocumentException(DocumentErrorCodes.ApplyFailed, ex.Message);
        }
    }

    public static void FillOp(DocumentContext context, DocumentOperation op)
    {
        context.Version = op.Version;
        context.Op = op.Kind == DocumentOperationKind.Op ? JsonNode.Parse(op.Payload.Span) : null;
    }
}
