using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Realtime.Internal.Ot;

namespace Realtime.Server.Internal.Documents;

/// <summary>What a submit came to: the committed operation (or, for a resend, the earlier commit it duplicates) and the operations it was
/// transformed against.</summary>
/// <param name="Version">The version the operation was applied at (the ack's <c>v</c>).</param>
/// <param name="Source">The ack's <c>src</c>.</param>
/// <param name="Sequence">The ack's <c>seq</c>.</param>
/// <param name="Committed">The operation committed now; <see langword="null"/> for a resend acknowledged without applying it again.</param>
/// <param name="TransformedAgainst">The committed operations it was transformed against, oldest first (empty for a resend).</param>
internal sealed record SubmitResult(long Version, string? Source, long Sequence, CommittedOp? Committed, IReadOnlyList<CommittedOp> TransformedAgainst);

/// <summary>
/// The submit pipeline of docs/documents.md after the shape checks of step 1 (<see cref="SubmitRequest"/>): the op size limit, then steps
/// 2–6, from the document's gate in <see cref="ActiveDocuments"/> to the broadcast of the committed operation, with the payload helpers.
/// </summary>
internal sealed class DocumentSubmitter(DocumentOptions options, ILogger logger, DocumentSnapshots snapshots, ActiveDocuments active,
                                        Action<string, Message, string?> broadcast, TimeProvider time)
{
    private readonly Action<string, Message, string?> _broadcast = broadcast;

    private DocumentOptions Options { get; } = options;

    private ILogger Logger { get; } = logger;

    private DocumentSnapshots Snapshots { get; } = snapshots;

    private ActiveDocuments Active { get; } = active;

    private DocumentStore Store => Snapshots.Store;

    /// <summary>The <see cref="DocumentOptions.MaxOpBytes"/> limit (<see cref="DocumentOptions.MaxSnapshotBytes"/> for a create's or a restore's
    /// data), then the submit pipeline from step 2 (docs/documents.md): one submit at a
    /// time per document on this node, middleware, the version checks, the transform, apply, the compare-and-set commit (retried from
    /// reading the record when another writer won), and the broadcast to the document's other subscribers.</summary>
    /// <exception cref="DocumentException">The submit is refused; nothing is committed (except after an <see cref="DocumentAction.AfterWrite"/> refusal).</exception>
    /// <param name="documentId">The document.</param>
    /// <param name="connection">The submitter; <see langword="null"/> for the server-side API.</param>
    /// <param name="request">The submit.</param>
    /// <param name="reply">Sends the submitter its transformed-against ops and its ack: called under the document's gate after the broadcast
    /// and <see cref="DocumentAction.AfterWrite"/>, so the ack reaches the submitter before any later op's broadcast.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    public async Task<SubmitResult> SubmitAsync(string documentId, ServerConnection? connection, SubmitRequest request,
                                                Func<SubmitResult, ValueTask>? reply, CancellationToken cancellationToken)
    {
        if (request.Kind is DocumentOperationKind.Create or DocumentOperationKind.Restore)
        {
            // A create's or a restore's data is a whole snapshot: it has the snapshot's limit, not an op's.
            if (request.Size > Options.MaxSnapshotBytes)
            {
                throw new DocumentException(DocumentErrorCodes.Unknown,
                    $"Snapshot too large: {request.Size} bytes of data, more than the limit of {Options.MaxSnapshotBytes} (DocumentOptions.MaxSnapshotBytes)");
            }
        }
        else if (request.Size > Options.MaxOpBytes)
        {
            throw new DocumentException(DocumentErrorCodes.Unknown,
                $"Op too large: {request.Size} bytes, more than the limit of {Options.MaxOpBytes} (DocumentOptions.MaxOpBytes)");
        }

        ActiveDocument document = Active.Acquire(documentId, pin: connection is not null);
        SubmitResult result;
        try
        {
            await document.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.Submit, documentId, connection, request.Request, Logger).ConfigureAwait(false);
                result = await CommitWithRetriesAsync(document, connection, request, cancellationToken).ConfigureAwait(false);
                if (result.Committed is { } committed)
                {
                    // Under the gate, so that broadcasts leave in version order; serialized once for every subscriber (and kept for the
                    // submitters of later ops transformed against this one).
                    _broadcast(documentId, committed.Wire, connection?.Id);
                    await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.AfterWrite, documentId, connection, request.Request, Logger,
                                                           context => FillOp(context, committed.Operation)).ConfigureAwait(false);
                }

                // Still under the gate (step 10 in the document's queue): the submitter's ack is queued before the next op's broadcast.
                if (reply is not null)
                {
                    await reply(result).ConfigureAwait(false);
                }
            }
            finally
            {
                document.Gate.Release();
            }
        }
        finally
        {
            Active.Release(document);
        }

        return result;
    }

    private async Task<SubmitResult> CommitWithRetriesAsync(ActiveDocument document, ServerConnection? connection, SubmitRequest request,
                                                            CancellationToken cancellationToken)
    {
        for (int retry = 0; ; retry++)
        {
            if (await TryCommitAsync(document, connection, request, cancellationToken).ConfigureAwait(false) is { } result)
            {
                return result;
            }

            document.Invalidate();
            DocumentLog.CommitConflict(Logger, document.Id, request.Version ?? -1, retry + 1);
            if (retry >= Options.MaxSubmitRetries)
            {
                throw new DocumentException(DocumentErrorCodes.MaxRetriesExceeded, "Maximum submit retries exceeded");
            }
        }
    }

    /// <summary>Steps 3–5 (docs/documents.md) once; <see langword="null"/> when the store's compare-and-set failed (start again).</summary>
    private async Task<SubmitResult?> TryCommitAsync(ActiveDocument document, ServerConnection? connection, SubmitRequest request,
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
                return new SubmitResult(earlier.Version, earlier.Source, earlier.Sequence, null, []);
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
                    return new SubmitResult(committed.Version, committed.Source, committed.Sequence, null, []); // a resend: acknowledged, not applied again
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
        // was never written: it is dropped, and the next submit reads the stored one.
        DocumentOperation entry;
        JsonNode? data;
        bool written;
        string? incarnation = request.Kind == DocumentOperationKind.Create ? Guid.NewGuid().ToString("N") : record?.Incarnation;
        try
        {
            byte[]? json;
            (entry, data, json) = await ApplyAsync(document, record, request, type, op, transformed, version, cancellationToken).ConfigureAwait(false);
            DocumentOperation applied = entry;
            await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.Commit, id, connection, request.Request, Logger, context => FillOp(context, applied))
                .ConfigureAwait(false);
            if (request.Kind == DocumentOperationKind.Delete)
            {
                written = await Store.DeleteAsync(id, current, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                long next = version + 1;
                StoredSnapshot snapshot = DocumentSnapshots.ToStored(next, type.Uri, json!) with { Time = time.GetUtcNow() };
                StoredSnapshot? milestone = Options.MilestoneInterval > 0 && next % Options.MilestoneInterval == 0 ? snapshot : null;
                written = await Store.CommitAsync(id, new DocumentCommit(entry, type.Uri, snapshot, milestone) { Incarnation = incarnation }, cancellationToken).ConfigureAwait(false);
                if (written && milestone is not null && Options.Retention is { } retention)
                {
                    await DocumentRetention.TrimAsync(Store, id, milestone.Time!.Value - retention, Logger).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            document.Invalidate();
            throw;
        }

        if (!written)
        {
            return null;
        }

        var kept = new CommittedOp(entry);
        if (request.Kind == DocumentOperationKind.Delete)
        {
            document.Invalidate();
            document.Set(0, null, null, null);
        }
        else
        {
            document.Set(version + 1, type.Uri, data, incarnation);
            document.Remember(kept);
        }

        return new SubmitResult(version, request.Source, request.Sequence, kept, against);
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

    private static void FillOp(DocumentContext context, DocumentOperation op)
    {
        context.Version = op.Version;
        context.Op = op.Kind == DocumentOperationKind.Op ? JsonNode.Parse(op.Payload.Span) : null;
    }
}
