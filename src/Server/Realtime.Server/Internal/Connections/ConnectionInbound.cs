using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// A connection's way in, from its receive loop to the application: the receive loop hands each message here, and from here it goes
/// through the connection's <see cref="InboundQueue"/> (created by the first message, or not at all for a connection that never sends
/// one) to <see cref="MessagePipeline"/>, unless the server has started closing the connection. The connection itself is not passed
/// through on the way in. The heartbeat lives here too, since everything that moves its deadline happens on the way in: the client's
/// pongs are read, the receive loop stops reading on purpose, the application runs on the receive loop's thread.
/// </summary>
internal sealed class ConnectionInbound(ServerConnection connection) : IInboundOwner
{
    private InboundQueue? _queue;
    private bool _open;
    private HeartbeatState _heartbeat;

    /// <summary>The queue, once the first message created it.</summary>
    public InboundQueue? Queue => Volatile.Read(ref _queue);

    bool IInboundOwner.IsClosing => connection.ClosingReason is not null;

    /// <summary>The connect hooks ran: the connection's messages may be processed.</summary>
    public void Open()
    {
        // Full fences on both sides (here and in Create): at least one of the two sees the other's write.
        Interlocked.Exchange(ref _open, true);
        Volatile.Read(ref _queue)?.Open();
    }

    /// <summary>Hands a message to the application, in order; when it is behind, stops reading the socket until there is room.</summary>
    /// <returns><see langword="false"/> when the connection closed meanwhile (the message is dropped, like any after the server closed).</returns>
    /// <param name="message">The message.</param>
    /// <param name="size">Its size on the wire.</param>
    /// <param name="stamp">When it was read, and the trace context its frame carried (<see cref="InboundStamp"/>).</param>
    public ValueTask<bool> OfferAsync(Message message, int size, InboundStamp stamp = default) => (_queue ?? Create()).OfferAsync(message, size, stamp);

    /// <summary>Completes when no message is being processed (after the receive loop ended, the connection awaits it before leaving).</summary>
    public Task WhenIdleAsync() => Queue?.WhenIdleAsync() ?? Task.CompletedTask;

    /// <summary>The connection is closing: a receive loop waiting for room in the queue stops waiting.</summary>
    public void SignalClosing() => Queue?.SignalRoom();

    ValueTask IInboundOwner.ProcessAsync(Message message, InboundStamp stamp)
        => connection.ClosingReason is null or DisconnectReason.ClientDisconnect // once the server closed, what the client still sent is dropped
            ? MessagePipeline.ProcessAsync(connection, message, stamp.Trace)
            : ValueTask.CompletedTask;

    /// <summary>The connection was accepted: the first ping is due one interval from now.</summary>
    public void StartHeartbeat() => _heartbeat.Start(connection.Server.Time.GetTimestamp(), connection.Server.PingIntervalTicks);

    /// <summary>A tick of the shared heartbeat timer: whether a ping is due, or the oldest unanswered one expired.</summary>
    public HeartbeatAction CheckHeartbeat(long now) => _heartbeat.OnTick(now, connection.Server.PingIntervalTicks, connection.Server.PingTimeoutTicks);

    /// <summary>The client answered a ping.</summary>
    public void OnPong() => _heartbeat.OnPong();

    /// <summary>The receive loop stops reading on purpose: no ping deadline runs out until <see cref="EndPause"/>.</summary>
    public void BeginPause(bool rateLimit)
    {
        RealtimeServer server = connection.Server;
        _heartbeat.BeginPause(server.Time.GetTimestamp());
        if (!rateLimit && Queue is { } queue)
        {
            RealtimeLog.InboundQueueFull(server.Logger, connection.Id, queue.Count, queue.QueuedBytes);
        }

        server.Metrics.ReceivePaused(rateLimit); // after the pause is visible: whoever observes the metric sees it
    }

    /// <summary>The receive loop reads again.</summary>
    public void EndPause() => _heartbeat.EndPause(connection.Server.Time.GetTimestamp());

    void IInboundOwner.Processed(InboundStamp stamp) => connection.Server.Metrics.MessageProcessed(stamp.Arrived);

    bool IInboundOwner.BeginInlineProcessing() => _heartbeat.TryBeginPause(connection.Server.Time.GetTimestamp());

    private InboundQueue Create()
    {
        var queue = new InboundQueue(this, RealtimeDefaults.InboundQueueCapacity, RealtimeDefaults.InboundQueueBytes);
        Interlocked.Exchange(ref _queue, queue);
        if (Volatile.Read(ref _open))
        {
            queue.Open();
        }

        return queue;
    }
}
