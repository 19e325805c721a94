using Microsoft.Extensions.Logging;

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
/// The submit pipeline of docs/documents.md after the shape checks of step 1 (<see cref="SubmitRequest"/>): the op size limit, then each
/// document's queue on this node, drained by one submitter at a time (<see cref="ActiveDocument"/>): steps 2–5 for each submit
/// (<see cref="DocumentPreparer"/>), the store's write — for consecutive ops prepared from memory, one <see cref="DocumentStore.CommitManyAsync"/>
/// for the group (a group commit) — and step 6, the broadcasts and replies in version order.
/// </summary>
internal sealed class DocumentSubmitter(DocumentOptions options, ILogger logger, DocumentSnapshots snapshots, ActiveDocuments active,
                                        Action<string, Message, string?> broadcast, TimeProvider time)
{
    /// <summary>The most submits one drain takes from a document's queue at a time (and so the largest group written together).</summary>
    internal const int MaxGroup = 64;

    private readonly Action<string, Message, string?> _broadcast = broadcast;
    private readonly DocumentPreparer _preparer = new(options, logger, snapshots, time);

    private DocumentOptions Options { get; } = options;

    private ILogger Logger { get; } = logger;

    private ActiveDocuments Active { get; } = active;

    private DocumentStore Store => snapshots.Store;

    /// <summary>Whether a document's submits queue to be written in groups: not with the in-memory store, which answers at once (a group
    /// saves it nothing); its submits take the document's gate one at a time instead.</summary>
    private bool GroupsWrites => Store is not InMemoryDocumentStore;

    /// <summary>The <see cref="DocumentOptions.MaxOpBytes"/> limit (<see cref="DocumentOptions.MaxSnapshotBytes"/> for a create's or a restore's
    /// data), then the submit pipeline from step 2 (docs/documents.md): the document's queue on this node, middleware, the version checks,
    /// the transform, apply, the compare-and-set commit (retried from reading the record when another writer won), and the broadcast to
    /// the document's other subscribers.</summary>
    /// <exception cref="DocumentException">The submit is refused; nothing is committed (except after an <see cref="DocumentAction.AfterWrite"/> refusal).</exception>
    /// <param name="documentId">The document.</param>
    /// <param name="connection">The submitter; <see langword="null"/> for the server-side API.</param>
    /// <param name="request">The submit.</param>
    /// <param name="reply">Sends the submitter its transformed-against ops and its ack: called in the document's turn after the broadcast
    /// and <see cref="DocumentAction.AfterWrite"/>, so the ack reaches the submitter before any later op's broadcast.</param>
    /// <param name="cancellationToken">Cancels waiting: a submit not yet taken from the queue is dropped.</param>
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
        try
        {
            var submit = new PendingSubmit(connection, request, reply, cancellationToken);
            if (!GroupsWrites)
            {
                // A store that answers at once gains nothing from a group: one submit at a time, each on its submitter's own flow (a
                // drain on the thread pool serving every editor measured slower here, and let a send loop fall behind).
                await document.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await RunGroupAsync(document, [submit]).ConfigureAwait(false);
                }
                finally
                {
                    document.Gate.Release();
                }
            }
            else if (document.Enqueue(submit))
            {
                await DrainAsync(document, submit).ConfigureAwait(false);
            }

            // Not cut short by the token: the request (a view of the received message) is the queue's until its turn has come (a
            // cancelled submit is dropped then).
            return await submit.Completion.ConfigureAwait(false);
        }
        finally
        {
            Active.Release(document);
        }
    }

    /// <summary>
    /// Runs the document's queue until it is empty: one group at a time, in arrival order. Only one drain runs per document. The submitter
    /// that started it (<paramref name="own"/>) drains only until its own submit is answered; whatever is queued then is drained on the
    /// thread pool, so that its connection's next message is not held up by the others' load.
    /// </summary>
    private async Task DrainAsync(ActiveDocument document, PendingSubmit? own)
    {
        while (document.TakeGroup(MaxGroup) is { } group)
        {
            try
            {
                await RunGroupAsync(document, group).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Not expected (every submit's own failure is its own); whatever is left of the group fails with it, the queue goes on.
                document.Invalidate();
                foreach (PendingSubmit submit in group)
                {
                    submit.Fail(ex);
                }
            }

            if (own is not null && own.Completion.IsCompleted && !document.TryEndDrain())
            {
                HandOver(document);
                return;
            }

            if (own is null)
            {
                // A drain of its own on the thread pool: with a store that answers at once (in memory) and editors that keep the
                // queue full, a group never waits, and the loop would hold its thread, and starve the connections' send and receive
                // loops on a small machine. Each group lets them run first.
                await Task.Yield();
            }
        }
    }

    /// <summary>Goes on with the document's drain on the thread pool, holding the document for it.</summary>
    private void HandOver(ActiveDocument document)
    {
        ActiveDocument held = Active.Acquire(document.Id, pin: false); // the same entry: this drain's submitter still holds it
        _ = Task.Run(async () =>
        {
            try
            {
                await DrainAsync(held, null).ConfigureAwait(false);
            }
            finally
            {
                Active.Release(held);
            }
        });
    }

    /// <summary>
    /// One group from the queue, in order. Each submit that can be prepared from memory joins the ones before it, to be written together;
    /// any other is written on its own, after them. A submit refused or failed while being prepared is answered after the ones prepared
    /// before it are written.
    /// </summary>
    private async Task RunGroupAsync(ActiveDocument document, PendingSubmit[] group)
    {
        var ready = new List<(PendingSubmit Submit, PreparedSubmit Prepared)>(group.Length);
        foreach (PendingSubmit submit in group)
        {
            if (submit.CancellationToken.IsCancellationRequested)
            {
                submit.Cancel();
                continue;
            }

            try
            {
                await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.Submit, document.Id, submit.Connection, submit.Request.Request, Logger)
                    .ConfigureAwait(false);
                if (DocumentPreparer.PreparesFromMemory(document, submit.Request))
                {
                    ready.Add((submit, await _preparer.PrepareAsync(document, submit.Connection, submit.Request, submit.CancellationToken).ConfigureAwait(false)));
                    continue;
                }

                await WriteGroupAsync(document, ready).ConfigureAwait(false);
                SubmitResult result = await CommitWithRetriesAsync(document, submit, submit.CancellationToken).ConfigureAwait(false);
                await FinishAsync(document, submit, result).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await WriteGroupAsync(document, ready).ConfigureAwait(false);
                submit.Fail(ex);
            }
        }

        await WriteGroupAsync(document, ready).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the prepared group with one <see cref="DocumentStore.CommitManyAsync"/> (every snapshot but the last left out), then answers
    /// each submit in order. Those the store refused (another writer moved the record first) start again on their own from a fresh read.
    /// Empties <paramref name="ready"/>; never throws (each submit gets its own outcome).
    /// </summary>
    private async Task WriteGroupAsync(ActiveDocument document, List<(PendingSubmit Submit, PreparedSubmit Prepared)> ready)
    {
        if (ready.Count == 0)
        {
            return;
        }

        (PendingSubmit Submit, PreparedSubmit Prepared)[] group = [.. ready];
        ready.Clear();
        var commits = new List<DocumentCommit>(group.Length);
        foreach ((_, PreparedSubmit prepared) in group)
        {
            if (prepared.Commit is { } commit)
            {
                commits.Add(commit);
            }
        }

        int written;
        try
        {
            for (int i = 0; i < commits.Count - 1; i++)
            {
                commits[i] = commits[i] with { Snapshot = null }; // the last one's snapshot is the group's
            }

            // Not cancelled by one submitter's connection: the write is the group's.
            written = commits.Count == 0 ? 0 : await Store.CommitManyAsync(document.Id, commits, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            document.Invalidate();
            foreach ((PendingSubmit submit, PreparedSubmit prepared) in group)
            {
                if (prepared.Commit is null && !DependsOnGroup(prepared, commits))
                {
                    await FinishAsync(document, submit, prepared.Result).ConfigureAwait(false); // a resend of an earlier write: answered as it was
                }
                else if (prepared.Commit is null)
                {
                    await RetryAloneAsync(document, submit, tried: 0).ConfigureAwait(false); // its original may not be written: ask the store
                }
                else
                {
                    submit.Fail(ex);
                }
            }

            return;
        }

        if (written < commits.Count)
        {
            document.Invalidate();
            DocumentLog.CommitConflict(Logger, document.Id, commits[written].Operation.Version, 1);
        }

        int index = 0;
        foreach ((PendingSubmit submit, PreparedSubmit prepared) in group)
        {
            if (prepared.Commit is null && written < commits.Count && DependsOnGroup(prepared, commits))
            {
                await RetryAloneAsync(document, submit, tried: 0).ConfigureAwait(false); // a resend of an op of the group, which is not all written
                continue;
            }

            if (prepared.Commit is not null && index++ >= written)
            {
                await RetryAloneAsync(document, submit, tried: 1).ConfigureAwait(false);
                continue;
            }

            if (prepared.Commit is { Milestone: not null } withMilestone)
            {
                await TrimAsync(document.Id, withMilestone).ConfigureAwait(false);
            }

            await FinishAsync(document, submit, prepared.Result).ConfigureAwait(false);
        }
    }

    /// <summary>Whether a resend found among the group's own ops (not yet written when it was prepared) is acknowledged by the group's write.</summary>
    private static bool DependsOnGroup(PreparedSubmit resend, List<DocumentCommit> commits)
        => commits.Count > 0 && resend.Result.Version >= commits[0].Operation.Version;

    /// <summary>A submit of a group the store did not take whole, on its own from a fresh read (<paramref name="tried"/>: the group's try,
    /// when it was one of its commits); never throws.</summary>
    private async Task RetryAloneAsync(ActiveDocument document, PendingSubmit submit, int tried)
    {
        try
        {
            if (tried > 0 && Options.MaxSubmitRetries < tried)
            {
                throw new DocumentException(DocumentErrorCodes.MaxRetriesExceeded, "Maximum submit retries exceeded");
            }

            SubmitResult result = await CommitWithRetriesAsync(document, submit, submit.CancellationToken, tried).ConfigureAwait(false);
            await FinishAsync(document, submit, result).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            submit.Fail(ex);
        }
    }

    /// <summary>Step 6 for one written submit: the broadcast (serialized once for every subscriber, and kept for the submitters of later
    /// ops transformed against it), <see cref="DocumentAction.AfterWrite"/>, then the submitter's reply; a failure there is the submitter's only.</summary>
    private async Task FinishAsync(ActiveDocument document, PendingSubmit submit, SubmitResult result)
    {
        try
        {
            if (result.Committed is { } committed)
            {
                _broadcast(document.Id, committed.Wire, submit.Connection?.Id);
                await DocumentMiddlewareRunner.RunAsync(Options, DocumentAction.AfterWrite, document.Id, submit.Connection, submit.Request.Request, Logger,
                                                       context => DocumentPreparer.FillOp(context, committed.Operation)).ConfigureAwait(false);
            }

            if (submit.Reply is { } reply)
            {
                await reply(result).ConfigureAwait(false);
            }

            submit.Complete(result);
        }
        catch (Exception ex)
        {
            submit.Fail(ex);
        }
    }

    /// <summary>One submit on its own: prepared from a fresh read when the last try lost to another writer, at most
    /// <see cref="DocumentOptions.MaxSubmitRetries"/> times again in all (<paramref name="tried"/>: the tries already lost, in a group).</summary>
    private async Task<SubmitResult> CommitWithRetriesAsync(ActiveDocument document, PendingSubmit submit, CancellationToken cancellationToken, int tried = 0)
    {
        for (int retry = tried; ; retry++)
        {
            if (await TryCommitAsync(document, submit, cancellationToken).ConfigureAwait(false) is { } result)
            {
                return result;
            }

            document.Invalidate();
            DocumentLog.CommitConflict(Logger, document.Id, submit.Request.Version ?? -1, retry + 1);
            if (retry + 1 > Options.MaxSubmitRetries)
            {
                throw new DocumentException(DocumentErrorCodes.MaxRetriesExceeded, "Maximum submit retries exceeded");
            }
        }
    }

    /// <summary>Steps 3–5 once, then the store's write; <see langword="null"/> when the store's compare-and-set failed (start again).</summary>
    private async Task<SubmitResult?> TryCommitAsync(ActiveDocument document, PendingSubmit submit, CancellationToken cancellationToken)
    {
        PreparedSubmit prepared = await _preparer.PrepareAsync(document, submit.Connection, submit.Request, cancellationToken).ConfigureAwait(false);
        bool written;
        try
        {
            if (prepared.DeleteVersion is { } current)
            {
                written = await Store.DeleteAsync(document.Id, current, cancellationToken).ConfigureAwait(false);
                if (written)
                {
                    document.Invalidate();
                    document.Set(0, null, null, null);
                }
            }
            else if (prepared.Commit is { } commit)
            {
                written = await Store.CommitAsync(document.Id, commit, cancellationToken).ConfigureAwait(false);
                if (written && commit.Milestone is not null)
                {
                    await TrimAsync(document.Id, commit).ConfigureAwait(false);
                }
            }
            else
            {
                return prepared.Result; // a resend: acknowledged as it was
            }
        }
        catch
        {
            document.Invalidate(); // the live snapshot moved ahead of a write that may not have happened
            throw;
        }

        return written ? prepared.Result : null;
    }

    /// <summary>A milestone was written: with <see cref="DocumentOptions.Retention"/> set, the history older than it may go.</summary>
    private ValueTask TrimAsync(string documentId, DocumentCommit commit)
        => Options.Retention is { } retention
            ? DocumentRetention.TrimAsync(Store, documentId, commit.Milestone!.Time!.Value - retention, Logger)
            : ValueTask.CompletedTask;
}
