using System.Net.WebSockets;
using System.Threading.Channels;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;

namespace Realtime.Server;

public sealed partial class ServerConnection
{
    private static readonly OutboundFrame Ping = new(FrameWriter.PingFrame, IsBinary: false);

    private int _closeRequested;
    private DisconnectReason _reason;
    private int _closeCode;
    private string _closeText = string.Empty;
    private volatile bool _discardQueued;
    private ITimer? _closeTimer;
    private long _nextPingAt;
    private long _pingOutstandingSince;
    private long _queuedBytes;

    /// <summary>Takes every queued frame without sending it, as the send loop would: for the broadcast benchmark, whose connections have no socket loop.</summary>
    internal int TakeQueued()
    {
        int count = 0;
        while (_outbound.Reader.TryRead(out OutboundFrame frame))
        {
            Interlocked.Add(ref _queuedBytes, -frame.Bytes.Length);
            count++;
        }

        return count;
    }

    /// <summary>Queues an encoded frame. Never blocks: a full queue closes the connection with 4003.</summary>
    internal void Enqueue(OutboundFrame frame)
    {
        if (!TryQueue(frame) && Volatile.Read(ref _closeRequested) == 0)
        {
            RealtimeOptions options = _server.Options;
            RealtimeLog.SlowConsumer(_server.Logger, Id, _outbound.Reader.Count, Volatile.Read(ref _queuedBytes), options.MaxQueuedMessages, options.MaxQueuedBytes);
            RequestClose(DisconnectReason.TransportError, CloseCodes.SlowConsumer, "Slow consumer", drain: false);
        }
    }

    /// <summary>Queues a frame within both bounds (frames and bytes); a frame larger than the byte bound still fits an empty queue.</summary>
    private bool TryQueue(OutboundFrame frame)
        => ByteBoundedQueue.TryWrite(_outbound.Writer, frame, frame.Bytes.Length, ref _queuedBytes, _server.Options.MaxQueuedBytes);

    /// <summary>
    /// Starts closing, once: the first caller's reason wins. With <paramref name="drain"/> the frames already
    /// queued are sent before the close frame; without it they are discarded. After
    /// <see cref="RealtimeOptions.CloseTimeout"/> the socket is aborted if the close has not completed.
    /// </summary>
    internal void RequestClose(DisconnectReason reason, int closeCode, string closeText, bool drain)
    {
        if (Interlocked.CompareExchange(ref _closeRequested, 1, 0) != 0)
        {
            return;
        }

        _reason = reason;
        _closeCode = closeCode;
        _closeText = closeText;
        Volatile.Write(ref _state, StateClosing);
        _discardQueued = !drain;
        _outbound.Writer.TryComplete();
        _inboundRoom.Signal(); // a receive loop waiting for room stops waiting
        ITimer timer = _server.Time.CreateTimer(static s => ((ServerConnection)s!).AbortHard(), this, _server.Options.CloseTimeout, Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _closeTimer, timer)?.Dispose();
    }

    /// <summary>
    /// Called by the shared heartbeat timer: sends a due ping, or closes with 4001 when the oldest unanswered ping expired.
    /// While the receive loop is not reading on purpose (the application is behind, or the sender is being slowed down) the
    /// deadline is suspended: the pong may be waiting unread in the socket, and the client is not to blame. Pings still go
    /// out, so that the client's own watchdog sees a live server.
    /// </summary>
    internal void OnHeartbeat(long now)
    {
        if (!Connected)
        {
            return;
        }

        // The pause is read first: ending one moves the deadline before it clears the pause.
        bool paused = Volatile.Read(ref _pausedSince) != 0;
        long outstanding = Volatile.Read(ref _pingOutstandingSince);
        if (!paused && outstanding != 0 && _server.Time.GetElapsedTime(outstanding, now) >= _server.Options.PingTimeout)
        {
            RealtimeLog.PingTimedOut(_server.Logger, Id, _server.Options.PingTimeout);
            RequestClose(DisconnectReason.PingTimeout, CloseCodes.PingTimeout, "Ping timeout", drain: false);
            return;
        }

        if (now >= Volatile.Read(ref _nextPingAt))
        {
            Volatile.Write(ref _nextPingAt, now + ToTimestamp(_server.Options.PingInterval));
            Interlocked.CompareExchange(ref _pingOutstandingSince, now, 0);
            Enqueue(Ping);
        }
    }

    private void OnPong() => Volatile.Write(ref _pingOutstandingSince, 0);

    private void StartHeartbeat() => Volatile.Write(ref _nextPingAt, _server.Time.GetTimestamp() + ToTimestamp(_server.Options.PingInterval));

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _server.Time.TimestampFrequency);

    /// <summary>The only code that writes to the socket, so no lock is ever held across a send.</summary>
    private async Task SendLoopAsync()
    {
        ChannelReader<OutboundFrame> reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (!_discardQueued && reader.TryRead(out OutboundFrame frame))
                {
                    await _socket.SendAsync(frame.Bytes, frame.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text,
                                            endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Add(ref _queuedBytes, -frame.Bytes.Length); // counted until sent: a stuck send holds its bytes
                }

                if (_discardQueued)
                {
                    break;
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync((WebSocketCloseStatus)_closeCode, _closeText, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            // A write failure aborts the connection; it never reaches whoever queued the frame.
            OnTransportFailure(ex);
        }
        catch (Exception ex)
        {
            OnUnexpectedFailure(ex);
            Abort(); // the send side is broken: no close frame can follow
        }
    }

    /// <summary>
    /// A failure that is not the network's (a bug here or in a layer below, such as two concurrent receives): logged as an
    /// error, and the connection is closed with 1011. The close timer aborts it if the close cannot complete.
    /// </summary>
    private void OnUnexpectedFailure(Exception ex)
    {
        RealtimeLog.UnexpectedError(_server.Logger, Id, ex);
        RequestClose(DisconnectReason.TransportError, CloseCodes.InternalError, "Internal server error", drain: false);
    }

    private void OnTransportFailure(Exception ex)
    {
        RealtimeLog.TransportFailed(_server.Logger, Id, ex);
        bool vanished = ex is WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely };
        RequestClose(vanished ? DisconnectReason.TransportClose : DisconnectReason.TransportError,
                     vanished ? CloseCodes.GoingAway : CloseCodes.InternalError, string.Empty, drain: false);

        // A WebSocket that failed has aborted itself, after sending any close frame of its own (1007 for invalid UTF-8).
        // Aborting it again through ASP.NET Core's wrapper would also abort the HTTP connection, and that reset can
        // overtake the close frame. The connection ends when the request completes.
        if (_socket.State != WebSocketState.Aborted)
        {
            Abort();
        }
    }

    /// <summary>Aborts the WebSocket: pending sends and receives end at once. (The socket ASP.NET Core hands out also aborts its HTTP connection.)</summary>
    private void Abort()
    {
        try
        {
            _socket.Abort();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <summary>The close did not complete within <see cref="RealtimeOptions.CloseTimeout"/>: reset the connection itself.</summary>
    private void AbortHard()
    {
        Abort();
        _abortTransport?.Invoke();
    }

    /// <summary>
    /// Whether an exception from the socket is the network's doing. An <see cref="InvalidOperationException"/> is, only once
    /// the connection is closing (a read or write racing the teardown); before that it is a programming error.
    /// </summary>
    private bool IsTransportFailure(Exception ex)
        => ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException
           || (ex is InvalidOperationException && Volatile.Read(ref _closeRequested) != 0);
}
