namespace Realtime.Server.Internal.Connections;

/// <summary>What an <see cref="InboundQueue"/> serves: the connection's way in (<see cref="ConnectionInbound"/>).</summary>
internal interface IInboundOwner
{
    /// <summary>Whether the connection is closing: a receive loop waiting for room then gives up.</summary>
    bool IsClosing { get; }

    /// <summary>Processes one message (middleware and hooks), one at a time; never throws. <paramref name="stamp"/> is what it was offered with.</summary>
    ValueTask ProcessAsync(Message message, InboundStamp stamp);

    /// <summary>A message's processing ended; <paramref name="stamp"/> is what it was offered with.</summary>
    void Processed(InboundStamp stamp);

    /// <summary>The receive loop stops reading on purpose (the heartbeat's deadline is suspended meanwhile).</summary>
    void BeginPause(bool rateLimit);

    /// <summary>
    /// The receive loop runs the application (a message processed at once, on its thread): the heartbeat's deadline is suspended
    /// until <see cref="EndPause"/>, since a hook that blocks keeps the client's pong unread.
    /// </summary>
    /// <returns><see langword="false"/> when a pause already covers it (then <see cref="EndPause"/> is not called).</returns>
    bool BeginInlineProcessing();

    /// <summary>The receive loop reads again.</summary>
    void EndPause();
}

/// <summary>
/// A connection's messages on their way to the application, processed one at a time in arrival order, and not before the queue is
/// opened (after the connect hooks). No loop waits on it: a message that finds nothing queued and nothing running is processed at
/// once on the receive loop's thread; only when processing goes asynchronous does a drain take the messages that arrive meanwhile,
/// and it ends when the queue is empty. Bounded by count and by bytes: when full the receive loop stops reading (TCP back-pressure)
/// until the drain makes room. One larger message still fits an empty queue.
/// </summary>
internal sealed class InboundQueue(IInboundOwner owner, int maxMessages, long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Queue<(Message Message, int Size, InboundStamp Stamp)> _items = new();
    private long _bytes;
    private bool _open;
    private bool _running;
    private Task _drain = Task.CompletedTask;
    private Realtime.Internal.RoomSignal _room;

    /// <summary>Messages waiting.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Wire bytes of the messages waiting.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>
    /// Offers a message from the receive loop: processed at once when the queue is open, empty and idle, else queued within the bounds.
    /// </summary>
    /// <returns><see langword="false"/> when the queue is full.</returns>
    public bool TryOffer(Message message, int size, InboundStamp stamp = default)
    {
        lock (_gate)
        {
            if (!_open || _running || _items.Count > 0)
            {
                if (_items.Count >= maxMessages || (_items.Count > 0 && _bytes + size > maxBytes))
                {
                    return false;
                }

                _items.Enqueue((message, size, stamp));
                _bytes += size;
                return true;
            }

            _running = true;
        }

        // The application runs on the receive loop's thread: until it returns (or goes asynchronous) nothing reads the socket.
        bool paused = owner.BeginInlineProcessing();
        ValueTask processing;
        try
        {
            processing = owner.ProcessAsync(message, stamp);
        }
        finally
        {
            if (paused)
            {
                owner.EndPause();
            }
        }

        if (processing.IsCompletedSuccessfully)
        {
            owner.Processed(stamp);

            // Nothing was queued meanwhile: only the receive loop (this thread) queues.
            lock (_gate)
            {
                _running = false;
            }
        }
        else
        {
            Task drain = DrainAsync(processing, stamp);
            lock (_gate)
            {
                _drain = drain;
            }
        }

        return true;
    }

    /// <summary>Offers a message; when the queue is full, stops reading (a pause) until the drain makes room.</summary>
    /// <returns><see langword="false"/> when the connection closed meanwhile (the message is dropped, like any after the server closed).</returns>
    public ValueTask<bool> OfferAsync(Message message, int size, InboundStamp stamp = default)
        => TryOffer(message, size, stamp) ? new ValueTask<bool>(true) : OfferWhenRoomAsync(message, size, stamp);

    private async ValueTask<bool> OfferWhenRoomAsync(Message message, int size, InboundStamp stamp)
    {
        owner.BeginPause(rateLimit: false);
        try
        {
            while (true)
            {
                // Armed before the retry: room made in between is not missed.
                Task room = _room.Arm();
                if (TryOffer(message, size, stamp))
                {
                    return true;
                }

                if (owner.IsClosing)
                {
                    return false;
                }

                await room.ConfigureAwait(false);
            }
        }
        finally
        {
            _room.Disarm();
            owner.EndPause();
        }
    }

    /// <summary>Wakes a receive loop waiting for room (a close does, so that it stops waiting).</summary>
    public void SignalRoom() => _room.Signal();

    /// <summary>Processing may start (the connect hooks ran): what is queued is processed now, in order. Idempotent.</summary>
    public void Open()
    {
        lock (_gate)
        {
            if (_open)
            {
                return;
            }

            _open = true;
            if (_running || _items.Count == 0)
            {
                return;
            }

            _running = true;
        }

        // Outside the lock: the drain runs the application's hooks.
        Task drain = DrainAsync(ValueTask.CompletedTask, pendingStamp: null);
        lock (_gate)
        {
            _drain = drain;
        }
    }

    /// <summary>Completes when no message is being processed (after the receive loop ended, the connection awaits it before leaving).</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            return _drain;
        }
    }

    /// <summary>Processes what is queued, after <paramref name="pending"/> (the message offered with <paramref name="pendingStamp"/>, if any).</summary>
    private async Task DrainAsync(ValueTask pending, InboundStamp? pendingStamp)
    {
        await pending.ConfigureAwait(false);
        if (pendingStamp is { } stamp)
        {
            owner.Processed(stamp);
        }

        while (true)
        {
            (Message Message, int Size, InboundStamp Stamp) item;
            lock (_gate)
            {
                if (!_items.TryDequeue(out item))
                {
                    _running = false;
                    return;
                }

                _bytes -= item.Size;
            }

            _room.Signal();
            await owner.ProcessAsync(item.Message, item.Stamp).ConfigureAwait(false);
            owner.Processed(item.Stamp);
        }
    }
}
