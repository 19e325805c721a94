using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// How a shared document takes the server's messages (js-collaboration-features.md §3.4–3.8): fetch and subscribe replies load a
/// snapshot, history replies answer their request, an op message acknowledges or refuses the op in flight (matched by
/// <c>src</c>+<c>seq</c>) or is transformed against the unacknowledged ops and applied, and a gap in versions fetches what was missed.
/// </summary>
/// <remarks>Not thread-safe: guarded by the <see cref="DocumentEngine"/>'s lock.</remarks>
/// <param name="host">Raises the errors no call waits for.</param>
/// <param name="content">The state the messages change.</param>
/// <param name="ops">The ops acknowledged, refused, or transformed.</param>
/// <param name="link">The requests answered, and the sends that follow.</param>
/// <param name="rollback">Undoes refused ops, and what cannot be transformed or applied.</param>
internal sealed class DocumentIncoming(IDocumentHost host, DocumentContent content, DocumentOpQueue ops, DocumentLink link, DocumentRollback rollback)
{
    /// <summary>Handles a document message from the server.</summary>
    /// <param name="action">Its <c>a</c>.</param>
    /// <param name="body">The message (the document may keep parts of it).</param>
    public void Receive(int action, JsonObject body)
    {
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
                    host.Raise(SharedDocumentEvents.Error, (Exception)error);
                }

                break;
        }
    }

    private void OnFetchReply(JsonObject body)
    {
        TaskCompletionSource[] waiters = link.Requests.TakeFetchAnswer(out bool sendNext);
        SharedDocumentException? error = DocumentWire.ReadError(body);
        if (error is null && body.ContainsKey("data"))
        {
            error = Ingest(DocumentWire.ReadSnapshot(body["data"]));
        }

        DocumentWaiters.Complete(waiters, error);
        if (sendNext)
        {
            link.Send(DocumentWire.Load(DocumentWire.Fetch, content.Version));
        }
    }

    private void OnSubscribeReply(JsonObject body)
    {
        SharedDocumentException? error = DocumentWire.ReadError(body);
        TaskCompletionSource[] waiters = link.Requests.TakeSubscribeAnswer(refused: error is not null);
        if (error is null && body.ContainsKey("data"))
        {
            error = Ingest(DocumentWire.ReadSnapshot(body["data"]));
        }

        DocumentWaiters.Complete(waiters, error);
    }

    private void OnHistoryReply(JsonObject body)
    {
        if (DocumentWire.GetString(body, "id") is not { } id || link.Requests.TakeHistory(id) is not { } waiter)
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

        if (content.Version is not null || !ops.IsEmpty)
        {
            // The document has a version, or ops of its own: only ops can bring it forward. A snapshot of a document this client is
            // creating (never loaded) is dropped: the create's answer settles it.
            if (content.Version is long known && snapshot.Version > known)
            {
                link.RequestFetch(null);
            }

            return null;
        }

        return content.Load(snapshot);
    }

    private void OnOpMessage(JsonObject body)
    {
        string? src = DocumentWire.GetString(body, "src");
        long seq = DocumentWire.TryGetLong(body, "seq", out long s) ? s : 0;
        bool hasVersion = DocumentWire.TryGetLong(body, "v", out long v);
        if (DocumentWire.ReadError(body) is { } error)
        {
            if (ops.InFlight is { } refused && refused.Is(src, seq))
            {
                rollback.Refused(error);
            }

            return;
        }

        if (!hasVersion)
        {
            return;
        }

        if (ops.InFlight is { } inFlight && inFlight.Is(src, seq))
        {
            Acknowledged(inFlight, v);
            return;
        }

        PendingOp? remote = DocumentWire.ReadOp(body);
        if (remote is null || content.Version is not long version || v < version)
        {
            return; // an ack of an op no longer in flight, a document not loaded, or an op already applied
        }

        if (v > version)
        {
            link.RequestFetch(null); // something was missed: the fetch from the version brings it
            return;
        }

        if (ops.TransformAgainst(content.Type, remote) is { } failed)
        {
            rollback.HardRollback(failed);
            return;
        }

        content.Version = version + 1;
        if (content.ApplyRemote(remote) is { } applyFailed)
        {
            rollback.HardRollback(applyFailed);
        }
    }

    /// <summary>The server acknowledged <paramref name="op"/>, the op in flight, at version <paramref name="v"/>.</summary>
    private void Acknowledged(PendingOp op, long v)
    {
        if (op.Kind != DocumentOpKind.Create && content.Version is long version && v != version)
        {
            if (v > version)
            {
                // Ops before this one were missed: the fetch from the version brings them, and this op again, taken as its ack.
                link.RequestFetch(null);
            }

            return;
        }

        content.Version = v + 1;
        ops.RemoveInFlight();
        DocumentWaiters.Complete(op.Waiters, null);
        link.Flush();
    }
}
