using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// A shared document's side of the connection (js-collaboration-features.md §3.4 and §3.10): the id it is connected as (none while
/// disconnected), the sends (a failed one counts as a disconnection), the head of the op queue sent once nothing is in flight, and the
/// loads it waits on (<see cref="DocumentRequests"/>), sent again after a reconnection.
/// </summary>
/// <remarks>Not thread-safe: guarded by the <see cref="DocumentEngine"/>'s lock.</remarks>
/// <param name="host">Sends and numbers.</param>
/// <param name="content">Gives the version the requests are written against.</param>
/// <param name="ops">The op queue whose head is sent.</param>
/// <param name="connectedAs">The connection's id if it is connected now.</param>
internal sealed class DocumentLink(IDocumentHost host, DocumentContent content, DocumentOpQueue ops, string? connectedAs)
{
    private string? _connectedAs = connectedAs;

    /// <summary>The fetches, subscribes and history requests waiting for an answer.</summary>
    public DocumentRequests Requests { get; } = new();

    /// <summary>Whether the document is subscribed: asked to, answered, and connected.</summary>
    public bool Subscribed => Requests.Subscribed && !Requests.SubscribeInFlight && _connectedAs is not null;

    /// <summary>The connection is connected as <paramref name="id"/>: send the queued op, re-subscribe from the version, resend what waits for an answer.</summary>
    public void Connected(string id)
    {
        if (string.Equals(id, _connectedAs, StringComparison.Ordinal))
        {
            return; // the connection the document started on: nothing was held back
        }

        _connectedAs = id;
        Flush();
        foreach (JsonObject request in Requests.Resend(content.Version))
        {
            Send(request);
        }
    }

    /// <summary>The connection dropped: the op in flight goes back to the head of the queue; fetches, subscribes and history requests stay pending.</summary>
    public void Disconnected()
    {
        _connectedAs = null;
        ops.Requeue();
    }

    /// <summary>Sends <paramref name="request"/> when connected; a request sent while disconnected waits for the next connection's resend.</summary>
    public void Send(JsonObject request)
    {
        if (_connectedAs is not null && !host.TrySend(request))
        {
            // The send buffer is full or the connection closed: what waits for an answer is sent again after the next connection.
            Disconnected();
        }
    }

    /// <summary>Sends the head of the queue when connected and nothing is in flight.</summary>
    public void Flush()
    {
        if (_connectedAs is null || ops.StartNext() is not { } op)
        {
            return;
        }

        if (!op.Sent)
        {
            op.Seq = host.NextSeq();
            op.Src = _connectedAs;
        }

        Send(DocumentWire.Submit(op, content.Version));
    }

    /// <summary>Files a fetch (for <paramref name="waiter"/>, if any) and sends it, unless it goes after the answer of the fetch in flight.</summary>
    public void RequestFetch(TaskCompletionSource? waiter)
    {
        if (Requests.AddFetch(waiter))
        {
            Send(DocumentWire.Load(DocumentWire.Fetch, content.Version));
        }
    }

    /// <summary>Files a subscribe for <paramref name="waiter"/> and sends it, unless one is in flight already.</summary>
    public void RequestSubscribe(TaskCompletionSource waiter)
    {
        if (Requests.AddSubscribe(waiter))
        {
            Send(DocumentWire.Load(DocumentWire.Subscribe, content.Version));
        }
    }

    /// <summary>Files a request for the snapshot at <paramref name="version"/> and sends it.</summary>
    public void RequestHistory(long version, TaskCompletionSource<SharedDocumentSnapshot> waiter)
        => Send(DocumentWire.HistoryRequest(Requests.AddHistory(version, waiter), version));
}
