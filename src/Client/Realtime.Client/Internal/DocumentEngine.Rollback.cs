namespace Realtime.Client.Internal;

internal sealed partial class DocumentEngine
{
    /// <summary>The server refused the op in flight: roll it back by its inverse, or by a hard rollback when it has none.</summary>
    private void Refused(SharedDocumentException error)
    {
        PendingOp op = _inflight!;
        bool silent = error.Code == DocumentWire.SubmitRejected;
        if (op.Kind != DocumentOpKind.Op || _type is not { CanInvert: true } type)
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

        _inflight = null;
        foreach (PendingOp queued in _queue)
        {
            if (DocumentTransform.Against(_type, queued, inverse) is { } failed)
            {
                Fail(op, error, silent);
                HardRollback(failed);
                return;
            }
        }

        if (ApplyRemote(inverse) is { } applyFailed)
        {
            Fail(op, error, silent);
            HardRollback(applyFailed);
            return;
        }

        Fail(op, error, silent);
        Flush();
    }

    private void Fail(PendingOp op, SharedDocumentException error, bool silent)
    {
        Complete(op.Waiters, silent ? null : error);
        if (!silent)
        {
            _host.Raise(SharedDocumentEvents.Error, (Exception)error);
        }
    }

    /// <summary>Applies a remote op (or a rollback's inverse) and raises its events.</summary>
    private SharedDocumentException? ApplyRemote(PendingOp remote)
    {
        try
        {
            switch (remote.Kind)
            {
                case DocumentOpKind.Op when _type is { } type:
                    _host.Raise(SharedDocumentEvents.BeforeOp, new SharedDocumentOp(remote.Op!.DeepClone(), isLocal: false));
                    _data = type.Apply(_data, remote.Op!);
                    _host.Raise(SharedDocumentEvents.Op, new SharedDocumentOp(remote.Op!.DeepClone(), isLocal: false));
                    return null;
                case DocumentOpKind.Op:
                    return new SharedDocumentException(1, "Document does not exist");
                case DocumentOpKind.Create:
                    IOtType created = Resolve(remote.TypeName!) ?? throw new OtException($"Unknown type {remote.TypeName}: pass it to the SharedDocument.");
                    _data = created.Create(remote.Data);
                    _type = created;
                    _host.Raise(SharedDocumentEvents.Create, false);
                    return null;
                case DocumentOpKind.Delete:
                    _type = null;
                    _data = null;
                    _host.Raise(SharedDocumentEvents.Delete, false);
                    return null;
                case DocumentOpKind.Restore when _type is { } type:
                    _data = type.Create(remote.Data);
                    _host.Raise(SharedDocumentEvents.Restore, false);
                    return null;
                case DocumentOpKind.Restore:
                    return new SharedDocumentException(1, "Document does not exist");
                default:
                    return null;
            }
        }
        catch (Exception ex) when (ex is OtException or NotSupportedException or InvalidOperationException)
        {
            return new SharedDocumentException(9, ex.Message, ex);
        }
    }

    /// <summary>
    /// Drops the local state and every unacknowledged op (their calls fail with <paramref name="cause"/>, or complete for the silent
    /// code 19), then fetches the server's snapshot.
    /// </summary>
    private void HardRollback(SharedDocumentException? cause, TaskCompletionSource? fetched = null)
    {
        List<PendingOp> dropped = [.. Unacknowledged()];
        _inflight = null;
        _queue.Clear();
        _type = null;
        _data = null;
        _version = null;
        _host.Raise(SharedDocumentEvents.HardRollback, (Exception?)cause);
        bool silent = cause?.Code == DocumentWire.SubmitRejected;
        Exception reason = cause ?? new SharedDocumentException(1000, "The op was dropped by a hard rollback.");
        foreach (PendingOp op in dropped)
        {
            Complete(op.Waiters, silent ? null : reason);
        }

        if (cause is not null && !silent)
        {
            _host.Raise(SharedDocumentEvents.Error, (Exception)cause);
        }

        RequestFetch(fetched);
    }
}
