using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// The client algorithm of a shared document (js-collaboration-features.md §3.5–3.10): the snapshot and its version, one op in
/// flight and the later ones queued (consecutive ones composed), incoming ops transformed against them, acks matched by
/// <c>src</c>+<c>seq</c>, refusals rolled back, and what is resent after a reconnection. It knows nothing of sockets: it sends
/// and raises through an <see cref="IDocumentHost"/>, and is told what arrives.
/// </summary>
/// <remarks>
/// <para>
/// The engine takes the application's calls and the connection's news; the work is split among the content
/// (<see cref="DocumentContent"/>), the op queue (<see cref="DocumentOpQueue"/>), the connection side (<see cref="DocumentLink"/>),
/// the server's messages (<see cref="DocumentIncoming"/>) and the rollbacks (<see cref="DocumentRollback"/>), none of which locks.
/// </para>
/// <para>
/// Thread-safe: every method is one critical section of one lock. Waiters' tasks run their continuations asynchronously
/// and events are queued on the host, so nothing runs user code under the lock.
/// </para>
/// </remarks>
internal sealed class DocumentEngine
{
    private readonly Lock _gate = new();
    private readonly IDocumentHost _host;
    private readonly DocumentContent _content;
    private readonly DocumentOpQueue _ops = new();
    private readonly DocumentLink _link;
    private readonly DocumentRollback _rollback;
    private readonly DocumentIncoming _incoming;
    private bool _disposed;

    /// <param name="host">Sends, raises, numbers.</param>
    /// <param name="types">The types the document knows (the first is the default of a create); at least one.</param>
    /// <param name="connectedAs">The connection's id if it is connected now.</param>
    public DocumentEngine(IDocumentHost host, IEnumerable<IOtType> types, string? connectedAs)
    {
        _host = host;
        _content = new DocumentContent(host, types);
        _link = new DocumentLink(host, _content, _ops, connectedAs);
        _rollback = new DocumentRollback(host, _content, _ops, _link);
        _incoming = new DocumentIncoming(host, _content, _ops, _link, _rollback);
    }

    public long? Version { get { lock (_gate) { return _content.Version; } } }

    public IOtType? Type { get { lock (_gate) { return _content.Type; } } }

    public JsonNode? Data { get { lock (_gate) { return _content.Data?.DeepClone(); } } }

    public bool Subscribed { get { lock (_gate) { return _link.Subscribed; } } }

    public bool HasPendingOps { get { lock (_gate) { return !_ops.IsEmpty; } } }

    /// <summary>Reads the content under the lock without copying it; <paramref name="reader"/> must not keep or change it.</summary>
    public T Read<T>(Func<JsonNode?, T> reader)
    {
        lock (_gate)
        {
            return reader(_content.Data);
        }
    }

    public Task FetchAsync()
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            _link.RequestFetch(done);
        }

        return done.Task;
    }

    public Task SubscribeAsync()
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            _link.RequestSubscribe(done);
        }

        return done.Task;
    }

    public Task SubmitOpAsync(JsonNode op)
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            IOtType type = _content.Type ?? throw new InvalidOperationException("The document does not exist: create it, or fetch or subscribe to load it, before submitting ops.");
            JsonNode normalized = type.Normalize(op);
            _host.Raise(SharedDocumentEvents.BeforeOp, new SharedDocumentOp(normalized.DeepClone(), isLocal: true));
            try
            {
                _content.Data = type.Apply(_content.Data, normalized);
            }
            catch (Exception ex) when (ex is OtException or NotSupportedException or InvalidOperationException)
            {
                // Apply may have changed the snapshot half-way: only the server's copy can be trusted now.
                done.TrySetException(ex);
                _rollback.HardRollback(new SharedDocumentException(9, ex.Message, ex));
                return done.Task;
            }

            _host.Raise(SharedDocumentEvents.Op, new SharedDocumentOp(normalized.DeepClone(), isLocal: true));
            Enqueue(PendingOp.ForOp(normalized), done);
        }

        return done.Task;
    }

    public Task CreateAsync(JsonNode? data, IOtType? type)
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_content.Type is not null)
            {
                throw new InvalidOperationException("The document already exists.");
            }

            type = _content.ForCreate(type);
            _content.Data = type.Create(data);
            _content.Type = type;
            _host.Raise(SharedDocumentEvents.Create, true);
            Enqueue(PendingOp.ForCreate(type.Name, data?.DeepClone()), done);
        }

        return done.Task;
    }

    public Task DeleteAsync()
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_content.Type is null)
            {
                throw new InvalidOperationException("The document does not exist.");
            }

            _content.Type = null;
            _content.Data = null;
            _host.Raise(SharedDocumentEvents.Delete, true);
            Enqueue(PendingOp.ForDelete(), done);
        }

        return done.Task;
    }

    /// <summary>Submits a restore to <paramref name="snapshot"/> (fetched by the caller), applied locally at once.</summary>
    public Task RestoreAsync(SharedDocumentSnapshot snapshot)
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            IOtType type = _content.Type ?? throw new InvalidOperationException("The document does not exist.");
            if (snapshot.TypeUri is null || !DocumentContent.Matches(type, snapshot.TypeUri))
            {
                throw new InvalidOperationException($"The document had no content of type {type.Uri} at version {snapshot.Version}.");
            }

            _content.Data = type.Create(snapshot.Data);
            _host.Raise(SharedDocumentEvents.Restore, true);
            Enqueue(PendingOp.ForRestore(snapshot.Version, snapshot.Data?.DeepClone()), done);
        }

        return done.Task;
    }

    public Task<SharedDocumentSnapshot> FetchHistorySnapshotAsync(long version)
    {
        var done = new TaskCompletionSource<SharedDocumentSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            ThrowIfDisposed();
            _link.RequestHistory(version, done);
        }

        return done.Task;
    }

    /// <summary>Drops the local state and every unacknowledged op, and fetches the server's snapshot.</summary>
    public Task HardRollbackAsync()
    {
        var done = DocumentWaiters.New();
        lock (_gate)
        {
            ThrowIfDisposed();
            _rollback.HardRollback(null, done);
        }

        return done.Task;
    }

    /// <summary>Handles a document message from the server; ignored once disposed.</summary>
    /// <param name="action">Its <c>a</c>.</param>
    /// <param name="body">The message (the engine may keep parts of it).</param>
    public void Receive(int action, JsonObject body)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _incoming.Receive(action, body);
            }
        }
    }

    /// <summary>The connection dropped: the op in flight goes back to the head of the queue; fetches, subscribes and history requests stay pending.</summary>
    public void Disconnected()
    {
        lock (_gate)
        {
            _link.Disconnected();
        }
    }

    /// <summary>The connection is connected as <paramref name="id"/>: send the queued op, re-subscribe from the version, resend what waits for an answer.</summary>
    public void Connected(string id)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _link.Connected(id);
            }
        }
    }

    /// <summary>Stops: every waiting call fails with <see cref="ObjectDisposedException"/>; later messages are ignored.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            var gone = new ObjectDisposedException(nameof(SharedDocument));
            _link.Requests.FailAll(gone);
            foreach (PendingOp op in _ops.Clear())
            {
                DocumentWaiters.Complete(op.Waiters, gone);
            }
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, typeof(SharedDocument));

    /// <summary>Queues a local op for <paramref name="done"/>, and sends it if it is the next.</summary>
    private void Enqueue(PendingOp op, TaskCompletionSource done)
    {
        if (_ops.Add(op, done, _content.Type))
        {
            _link.Flush();
        }
    }
}
