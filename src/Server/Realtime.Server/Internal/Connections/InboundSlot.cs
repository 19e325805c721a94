namespace Realtime.Server.Internal.Connections;

/// <summary>
/// Where a connection's <see cref="InboundQueue"/> lives: created by the first message, or not at all for a connection that never
/// sends one, and opened once the connect hooks ran, whichever comes first. A mutable struct kept in a field of its connection (no
/// object for an idle connection); never copy it.
/// </summary>
internal struct InboundSlot
{
    private InboundQueue? _queue;
    private bool _open;

    /// <summary>The queue, once the first message created it.</summary>
    public readonly InboundQueue? Queue => Volatile.Read(in _queue);

    /// <summary>The connect hooks ran: the connection's messages may be processed.</summary>
    public void Open()
    {
        // Full fences on both sides (here and in Create): at least one of the two sees the other's write.
        Interlocked.Exchange(ref _open, true);
        Volatile.Read(ref _queue)?.Open();
    }

    /// <summary>Hands a message to the application, in order (see <see cref="InboundQueue.OfferAsync"/>).</summary>
    public ValueTask<bool> OfferAsync(IInboundOwner owner, Message message, int size) => (_queue ?? Create(owner)).OfferAsync(message, size);

    private InboundQueue Create(IInboundOwner owner)
    {
        var queue = new InboundQueue(owner, RealtimeDefaults.InboundQueueCapacity, RealtimeDefaults.InboundQueueBytes);
        Interlocked.Exchange(ref _queue, queue);
        if (Volatile.Read(ref _open))
        {
            queue.Open();
        }

        return queue;
    }
}
