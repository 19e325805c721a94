using System.Text.Json.Nodes;

namespace Realtime.Client.Internal;

/// <summary>
/// The client algorithm of a shared document (js-collaboration-features.md §3.5–3.10): the snapshot and its version, one op in
/// flight and the later ones queued (consecutive ones composed), incoming ops transformed against them, acks matched by
/// <c>src</c>+<c>seq</c>, refusals rolled back, and what is resent after a reconnection. It knows nothing of sockets: it sends
/// and raises through an <see cref="IDocumentHost"/>, and is told what arrives.
/// </summary>
/// <remarks>Thread-safe: every method is one critical section of one lock. Waiters' tasks run their continuations asynchronously
/// and events are queued on the host, so nothing runs user code under the lock.</remarks>
internal sealed partial class DocumentEngine
{
    private readonly Lock _gate = new();
    private readonly IDocumentHost _host;
    private readonly List<IOtType> _types;
    private readonly List<PendingOp> _queue = [];
    private readonly DocumentRequests _requests = new();
    private IOtType? _type;
    private JsonNode? _data;
    private long? _version;
    private PendingOp? _inflight;
    private string? _connectedAs;
    private bool _disposed;

    /// <param name="host">Sends, raises, numbers.</param>
    /// <param name="types">The types the document knows (the first is the default of a create); at least one.</param>
    /// <param name="connectedAs">The connection's id if it is connected now.</param>
    public DocumentEngine(IDocumentHost host, IEnumerable<IOtType> types, string? connectedAs)
    {
        _host = host;
        _types = [.. types];
        if (_types.Count == 0 || _types.Contains(null!))
        {
            throw new ArgumentException("A shared document needs at least one OT type, and no null ones.", nameof(types));
        }

        _connectedAs = connectedAs;
    }

    public long? Version { get { lock (_gate) { return _version; } } }

    public IOtType? Type { get { lock (_gate) { return _type; } } }

    public JsonNode? Data { get { lock (_gate) { return _data?.DeepClone(); } } }

    public bool Subscribed { get { lock (_gate) { return _requests.Subscribed && !_requests.SubscribeInFlight && _connectedAs is not null; } } }

    public bool HasPendingOps { get { lock (_gate) { return _inflight is not null || _queue.Count > 0; } } }

    /// <summary>Reads the content under the lock without copying it; <paramref name="reader"/> must not keep or change it.</summary>
    public T Read<T>(Func<JsonNode?, T> reader)
    {
        lock (_gate)
        {
            return reader(_data);
        }
    }

    public Task FetchAsync()
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            RequestFetch(done);
        }

        return done.Task;
    }

    public Task SubscribeAsync()
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_requests.AddSubscribe(done))
            {
                Send(DocumentWire.Load(DocumentWire.Subscribe, _version));
            }
        }

        return done.Task;
    }

    public Task SubmitOpAsync(JsonNode op)
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            IOtType type = _type ?? throw new InvalidOperationException("The document does not exist: create it, or fetch or subscribe to load it, before submitting ops.");
            JsonNode normalized = type.Normalize(op);
            _host.Raise(SharedDocumentEvents.BeforeOp, new SharedDocumentOp(normalized.DeepClone(), isLocal: true));
            try
            {
                _data = type.Apply(_data, normalized);
            }
            catch (Exception ex) when (ex is OtException or NotSupportedException or InvalidOperationException)
            {
                // Apply may have changed the snapshot half-way: only the server's copy can be trusted now.
                done.TrySetException(ex);
                HardRollback(new SharedDocumentException(9, ex.Message, ex));
                return done.Task;
            }

            _host.Raise(SharedDocumentEvents.Op, new SharedDocumentOp(normalized.DeepClone(), isLocal: true));
            Enqueue(PendingOp.ForOp(normalized), done);
        }

        return done.Task;
    }

    public Task CreateAsync(JsonNode? data, IOtType? type)
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_type is not null)
            {
                throw new InvalidOperationException("The document already exists.");
            }

            type ??= _types[0];
            if (!_types.Contains(type))
            {
                _types.Add(type);
            }

            _data = type.Create(data);
            _type = type;
            _host.Raise(SharedDocumentEvents.Create, true);
            Enqueue(PendingOp.ForCreate(type.Name, data?.DeepClone()), done);
        }

        return done.Task;
    }

    public Task DeleteAsync()
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_type is null)
            {
                throw new InvalidOperationException("The document does not exist.");
            }

            _type = null;
            _data = null;
            _host.Raise(SharedDocumentEvents.Delete, true);
            Enqueue(PendingOp.ForDelete(), done);
        }

        return done.Task;
    }

    /// <summary>Submits a restore to <paramref name="snapshot"/> (fetched by the caller), applied locally at once.</summary>
    public Task RestoreAsync(SharedDocumentSnapshot snapshot)
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            IOtType type = _type ?? throw new InvalidOperationException("The document does not exist.");
            if (snapshot.TypeUri is null || !Matches(type, snapshot.TypeUri))
            {
                throw new InvalidOperationException($"The document had no content of type {type.Uri} at version {snapshot.Version}.");
            }

            _data = type.Create(snapshot.Data);
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
            Send(DocumentWire.HistoryRequest(_requests.AddHistory(version, done), version));
        }

        return done.Task;
    }

    /// <summary>Drops the local state and every unacknowledged op, and fetches the server's snapshot.</summary>
    public Task HardRollbackAsync()
    {
        var done = NewWaiter();
        lock (_gate)
        {
            ThrowIfDisposed();
            HardRollback(null, done);
        }

        return done.Task;
    }

    /// <summary>The connection dropped: the op in flight goes back to the head of the queue; fetches, subscribes and history requests stay pending.</summary>
    public void Disconnected()
    {
        lock (_gate)
        {
            _connectedAs = null;
            if (_inflight is not null)
            {
                _queue.Insert(0, _inflight);
                _inflight = null;
            }
        }
    }

    /// <summary>The connection is connected as <paramref name="id"/>: send the queued op, re-subscribe from the version, resend what waits for an answer.</summary>
    public void Connected(string id)
    {
        lock (_gate)
        {
            if (_disposed || string.Equals(id, _connectedAs, StringComparison.Ordinal))
            {
                return; // the connection the document started on: nothing was held back
            }

            _connectedAs = id;
            Flush();
            foreach (JsonObject request in _requests.Resend(_version))
            {
                Send(request);
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
            _requests.FailAll(gone);
            foreach (TaskCompletionSource waiter in Unacknowledged().SelectMany(p => p.Waiters))
            {
                waiter.TrySetException(gone);
            }

            _queue.Clear();
            _inflight = null;
        }
    }

    private static TaskCompletionSource NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static bool Matches(IOtType type, string nameOrUri) => nameOrUri == type.Uri || nameOrUri == type.Name;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, typeof(SharedDocument));

    private void Enqueue(PendingOp op, TaskCompletionSource done)
    {
        PendingOp? last = _queue.Count > 0 ? _queue[^1] : null;
        if (op.Kind == DocumentOpKind.Op && last is { Kind: DocumentOpKind.Op, Sent: false } && _type is not null)
        {
            try
            {
                last.Op = _type.Compose(last.Op!, op.Op!);
                last.Waiters.Add(done);
                return;
            }
            catch (Exception ex) when (ex is OtException or NotSupportedException)
            {
                // Not composable: it goes on its own.
            }
        }

        op.Waiters.Add(done);
        _queue.Add(op);
        Flush();
    }

    /// <summary>Sends the head of the queue when connected and nothing is in flight.</summary>
    private void Flush()
    {
        if (_connectedAs is null || _inflight is not null || _queue.Count == 0)
        {
            return;
        }

        PendingOp op = _queue[0];
        _queue.RemoveAt(0);
        _inflight = op;
        if (!op.Sent)
        {
            op.Seq = _host.NextSeq();
            op.Src = _connectedAs;
        }

        Send(DocumentWire.Submit(op, _version));
    }

    private void Send(JsonObject request)
    {
        if (_connectedAs is not null && !_host.TrySend(request))
        {
            // The send buffer is full or the connection closed: what waits for an answer is sent again after the next connection.
            _connectedAs = null;
            if (_inflight is not null)
            {
                _queue.Insert(0, _inflight);
                _inflight = null;
            }
        }
    }

    private void RequestFetch(TaskCompletionSource? waiter)
    {
        if (_requests.AddFetch(waiter))
        {
            Send(DocumentWire.Load(DocumentWire.Fetch, _version));
        }
    }
}
