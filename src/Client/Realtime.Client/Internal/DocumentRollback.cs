namespace Realtime.Client.Internal;

/// <summary>
/// How a shared document undoes what the server did not take (js-collaboration-features.md §3.8): a refused op rolled back by its
/// inverse, with the queued ops transformed over it; or, when that cannot be done, a hard rollback that drops the local state and every
/// unacknowledged op and fetches the server's snapshot.
/// </summary>
/// <remarks>Not thread-safe: guarded by the <see cref="DocumentEngine"/>'s lock.</remarks>
/// <param name="host">Raises the events.</param>
/// <param name="content">The state rolled back.</param>
/// <param name="ops">The ops rolled back or dropped.</param>
/// <param name="link">Sends the next op, and the fetch of a hard rollback.</param>
internal sealed class DocumentRollback(IDocumentHost host, DocumentContent content, DocumentOpQueue ops, DocumentLink link)
{
    /// <summary>The server refused the op in flight: roll it back by its inverse, or by a hard rollback when it has none.</summary>
    public void Refused(SharedDocumentException error)
    {
        PendingOp op = ops.InFlight!;
        bool silent = error.Code == DocumentWire.SubmitRejected;
        if (op.Kind != DocumentOpKind.Op || content.Type is not { CanInvert: true } type)
        {
            // Deliberate difference from the original, which keeps a local state the server refused (and sends the queued ops written
            // against it) until the application calls hardRollback(): the server's state is fetched again at once.
            HardRollback(error);
            return;
        }

        PendingOp inverse;
        try
        {
            inverse = PendingOp.ForOp(type.Invert(op.Op!));
        }
        catch (Exception ex) when (ex is OtException or NotSupportedException)
        {
            HardRollback(error);
            return;
        }

        ops.RemoveInFlight();
        if (ops.TransformAgainst(content.Type, inverse) is { } failed)
        {
            Fail(op, error, silent);
            HardRollback(failed);
            return;
        }

        if (content.ApplyRemote(inverse) is { } applyFailed)
        {
            Fail(op, error, silent);
            HardRollback(applyFailed);
            return;
        }

        Fail(op, error, silent);
        link.Flush();
    }

    /// <summary>
    /// Drops the local state and every unacknowledged op (their calls fail with <paramref name="cause"/>, or complete for the silent
    /// code 19), then fetches the server's snapshot.
    /// </summary>
    /// <param name="cause">Why; <see langword="null"/> when the application asked for it.</param>
    /// <param name="fetched">The call that waits for the fetch, if any.</param>
    public void HardRollback(SharedDocumentException? cause, TaskCompletionSource? fetched = null)
    {
        List<PendingOp> dropped = ops.Clear();
        content.Clear();
        host.Raise(SharedDocumentEvents.HardRollback, (Exception?)cause);
        bool silent = cause?.Code == DocumentWire.SubmitRejected;
        Exception reason = cause ?? new SharedDocumentException(1000, "The op was dropped by a hard rollback.");
        foreach (PendingOp op in dropped)
        {
            DocumentWaiters.Complete(op.Waiters, silent ? null : reason);
        }

        if (cause is not null && !silent)
        {
            host.Raise(SharedDocumentEvents.Error, (Exception)cause);
        }

        link.RequestFetch(fetched);
    }

    /// <summary>Answers the calls waiting for a refused op: with <paramref name="error"/>, also raised, unless the refusal is silent.</summary>
    private void Fail(PendingOp op, SharedDocumentException error, bool silent)
    {
        DocumentWaiters.Complete(op.Waiters, silent ? null : error);
        if (!silent)
        {
            host.Raise(SharedDocumentEvents.Error, (Exception)error);
        }
    }
}
