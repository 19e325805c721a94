using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

internal sealed partial class DocumentEngine
{
    /// <summary>Handles a document message from the server.</summary>
    /// <param name="action">Its <c>a</c>.</param>
    /// <param name="body">The message (the engine may keep parts of it).</param>
    public void Receive(int action, JsonObject body)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            switch (action)
            {
                case DocumentWire.Fetch:
                    OnFetchReply(body);
                    break;
                case DocumentWire.Subscribe:
                    OnSubscribeReply(body);
                    break;
                case DocumentWire.History:
                    OnHistoryReply(body);
                    break;
                case DocumentWire.Op:
                    OnOpMessage(body);
                    break;
                default:
                    if (DocumentWire.ReadError(body) is { } error)
                    {
                        _host.Raise(SharedDocumentEvents.Error, (Exception)error);
                    }

                    break;
            }
        }
    }

    private void OnFetchReply(JsonObject body)
    {
        TaskCompletionSource[] waiters = [.. _fetchWaiters];
        _fetchWaiters.Clear();
        _fetchInFlight = false;
        SharedDocumentException? error = DocumentWire.ReadError(body);
        if (error is null && body.ContainsKey("data"))
        {
            error = Ingest(DocumentWire.ReadSnapshot(body["data"]));
        }

        Complete(waiters, error);
        if (_fetchAgain && !_fetchInFlight)
        {
            _fetchAgain = false;
            TaskCompletionSource[] next = [.. _nextFetchWaiters];
            _nextFetchWaiters.Clear();
            _fetchInFlight = true;
            _fetchWaiters.AddRange(next);
            Send(DocumentWire.Load(DocumentWire.Fetch, _version));
        }
    }

    private void OnSubscribeReply(JsonObject body)
    {
        TaskCompletionSource[] waiters = [.. _subscribeWaiters];
        _subscribeWaiters.Clear();
        _subscribeInFlight = false;
        SharedDocumentException? error = DocumentWire.ReadError(body);
        if (error is not null)
        {
            _subscribed = false;
        }
        else if (body.ContainsKey("data"))
        {
            error = Ingest(DocumentWire.ReadSnapshot(body["data"]));
        }

        Complete(waiters, error);
    }

    private void OnHistoryReply(JsonObject body)
    {
        if (DocumentWire.GetString(body, "id") is not { } id || !_history.Remove(id, out (long Version, TaskCompletionSource<SharedDocumentSnapshot> Waiter) request))
        {
            return; // an answer to a request sent twice around a reconnection
        }

        if (DocumentWire.ReadError(body) is { } error)
        {
            request.Waiter.TrySetException(error);
        }
        else if (DocumentWire.ReadSnapshot(body["data"]) is { } snapshot)
        {
            request.Waiter.TrySetResult(snapshot);
        }
        else
        {
            request.Waiter.TrySetException(new SharedDocumentException(6, "The history snapshot reply carried no snapshot."));
        }
    }

    /// <summary>Loads a snapshot from a fetch or subscribe reply, as far as it is newer than what the document has.</summary>
    private SharedDocumentException? Ingest(SharedDocumentSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return new SharedDocumentException(6, "The reply carried no valid snapshot.");
        }

        if (_version is not null || _inflight is not null || _queue.Count > 0)
        {
            // The document has a version, or ops of its own: only ops can bring it forward. A snapshot of a document this client is
            // creating (never loaded) is dropped: the create's answer settles it.
            if (_version is long known && snapshot.Version > known)
            {
                RequestFetch(null);
            }

            return null;
        }

        IOtType? type = null;
        if (snapshot.TypeUri is not null && (type = Resolve(snapshot.TypeUri)) is null)
        {
            return new SharedDocumentException(2, $"Unknown type {snapshot.TypeUri}: pass it to the SharedDocument.");
        }

        _version = snapshot.Version;
        _type = type;
        _data = type is null ? null : snapshot.Data;
        _host.Raise(SharedDocumentEvents.Load, snapshot.Version);
        return null;
    }

    private void OnOpMessage(JsonObject body)
    {
        string? src = DocumentWire.GetString(body, "src");
        long seq = DocumentWire.TryGetLong(body, "seq", out long s) ? s : 0;
        bool hasVersion = DocumentWire.TryGetLong(body, "v", out long v);
        if (DocumentWire.ReadError(body) is { } error)
        {
            if (_inflight is not null && _inflight.Is(src, seq))
            {
                Refused(error);
            }

            return;
        }

        if (!hasVersion)
        {
            return;
        }

        if (_inflight is not null && _inflight.Is(src, seq))
        {
            Acknowledged(v);
            return;
        }

        PendingOp? remote = DocumentWire.ReadOp(body);
        if (remote is null || _version is not long version || v < version)
        {
            return; // an ack of an op no longer in flight, a document not loaded, or an op already applied
        }

        if (v > version)
        {
            RequestFetch(null); // something was missed: the fetch from the version brings it
            return;
        }

        foreach (PendingOp local in Unacknowledged())
        {
            if (TransformAgainst(local, remote) is { } failed)
            {
                HardRollback(failed);
                return;
            }
        }

        _version = version + 1;
        if (ApplyRemote(remote) is { } applyFailed)
        {
            HardRollback(applyFailed);
        }
    }

    private void Acknowledged(long v)
    {
        PendingOp op = _inflight!;
        if (op.Kind != DocumentOpKind.Create && _version is long version && v != version)
        {
            if (v > version)
            {
                // Ops before this one were missed: the fetch from the version brings them, and this op again, taken as its ack.
                RequestFetch(null);
            }

            return;
        }

        _version = v + 1;
        _inflight = null;
        Complete(op.Waiters, null);
        Flush();
    }

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
            if (TransformAgainst(queued, inverse) is { } failed)
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

    /// <summary>
    /// Transforms a local op and a remote one written against the same version against each other: <paramref name="local"/> becomes
    /// the local op after the remote one, <paramref name="remote"/> the remote op after the local one. The local op takes the left side,
    /// as the server does with the op that reaches it later.
    /// </summary>
    /// <returns>Why they cannot be transformed; <see langword="null"/> when done.</returns>
    private SharedDocumentException? TransformAgainst(PendingOp local, PendingOp remote)
    {
        if (remote.Kind == DocumentOpKind.None)
        {
            return null;
        }

        if (local.Kind is DocumentOpKind.Delete or DocumentOpKind.Restore)
        {
            // The local delete or restore replaces whatever the remote op did: for this client the remote op is a no-op.
            remote.Cancel();
            return null;
        }

        return remote.Kind switch
        {
            DocumentOpKind.Delete => new SharedDocumentException(3, "Document was deleted"),
            DocumentOpKind.Create => new SharedDocumentException(0, "Document was created remotely"),
            DocumentOpKind.Restore => new SharedDocumentException(32, "Document was restored, please refetch"),
            _ when local.Kind == DocumentOpKind.Create => new SharedDocumentException(0, "Document was created remotely"),
            _ => TransformOps(local, remote),
        };
    }

    private SharedDocumentException? TransformOps(PendingOp local, PendingOp remote)
    {
        if (_type is not { } type)
        {
            return new SharedDocumentException(10, "Op transform failed: the document has no type");
        }

        try
        {
            (JsonNode left, JsonNode right) = type.TransformX(local.Op!, remote.Op!);
            local.Op = left;
            remote.Op = right;
            return null;
        }
        catch (Exception ex) when (ex is OtException or NotSupportedException or InvalidOperationException)
        {
            return new SharedDocumentException(10, "Op transform failed: " + ex.Message);
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

    /// <summary>The op in flight, then the queued ones.</summary>
    private IEnumerable<PendingOp> Unacknowledged() => _inflight is null ? _queue : _queue.Prepend(_inflight);

    private IOtType? Resolve(string nameOrUri) => _types.Find(t => Matches(t, nameOrUri));

    private static void Complete(IEnumerable<TaskCompletionSource> waiters, Exception? error)
    {
        foreach (TaskCompletionSource waiter in waiters)
        {
            if (error is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(error);
            }
        }
    }
}
