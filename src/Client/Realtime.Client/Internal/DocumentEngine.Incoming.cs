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
        TaskCompletionSource[] waiters = _requests.TakeFetchAnswer(out bool sendNext);
        SharedDocumentException? error = DocumentWire.ReadError(body);
        if (error is null && body.ContainsKey("data"))
        {
            error = Ingest(DocumentWire.ReadSnapshot(body["data"]));
        }

        Complete(waiters, error);
        if (sendNext)
        {
            Send(DocumentWire.Load(DocumentWire.Fetch, _version));
        }
    }

    private void OnSubscribeReply(JsonObject body)
    {
        SharedDocumentException? error = DocumentWire.ReadError(body);
        TaskCompletionSource[] waiters = _requests.TakeSubscribeAnswer(refused: error is not null);
        if (error is null && body.ContainsKey("data"))
        {
            error = Ingest(DocumentWire.ReadSnapshot(body["data"]));
        }

        Complete(waiters, error);
    }

    private void OnHistoryReply(JsonObject body)
    {
        if (DocumentWire.GetString(body, "id") is not { } id || _requests.TakeHistory(id) is not { } waiter)
        {
            return; // an answer to a request sent twice around a reconnection
        }

        if (DocumentWire.ReadError(body) is { } error)
        {
            waiter.TrySetException(error);
        }
        else if (DocumentWire.ReadSnapshot(body["data"]) is { } snapshot)
        {
            waiter.TrySetResult(snapshot);
        }
        else
        {
            waiter.TrySetException(new SharedDocumentException(6, "The history snapshot reply carried no snapshot."));
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
            if (DocumentTransform.Against(_type, local, remote) is { } failed)
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
