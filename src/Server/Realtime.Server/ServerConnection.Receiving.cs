using System.Net.WebSockets;
using System.Threading.Channels;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;

namespace Realtime.Server;

public sealed partial class ServerConnection
{
    /// <summary>Completed with the client's <c>hello</c> (or <see langword="null"/> when the socket ended first); dropped once the handshake has it, so an open connection does not keep it.</summary>
    private TaskCompletionSource<Frame?>? _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _helloSeen;

    /// <summary>The inbound rate limit (<see cref="RealtimeOptions.MaxMessagesPerSecond"/>), unless <see cref="_rateLimited"/> is off.</summary>
    private TokenBucket _rate;
    private readonly bool _rateLimited;

    /// <summary>When the rate limit started holding this sender back without a break (0: it is not).</summary>
    private long _throttledSince;

    /// <summary>When the receive loop stopped reading the socket on purpose (0: it is reading); the ping deadline is suspended meanwhile.</summary>
    private long _pausedSince;

    /// <summary>Wire bytes of the messages in the inbound queue (<see cref="RealtimeDefaults.InboundQueueBytes"/>).</summary>
    private long _inboundBytes;

    /// <summary>Signalled by the processing loop when it takes a message (and by a close), for a receive loop waiting for room.</summary>
    private RoomSignal _inboundRoom;

    /// <summary>
    /// Reads frames until the socket closes. Heartbeat answers are handled here, so a slow application
    /// never delays them; application messages go to the inbound queue, processed in arrival order.
    /// </summary>
    private async Task ReceiveLoopAsync()
    {
        using var reader = new WebSocketMessageReader();
        bool violated = false;
        try
        {
            while (true)
            {
                WebSocketMessageType type = await reader.ReadAsync(_socket, _server.Options.MaxMessageSize, CancellationToken.None).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close)
                {
                    DisconnectReason reason = CloseCodes.ReasonForClientClose((int?)_socket.CloseStatus);
                    RequestClose(reason, CloseCodes.NormalClosure, string.Empty, drain: false);
                    return;
                }

                ValueTask pace = PaceAsync();
                if (!pace.IsCompletedSuccessfully)
                {
                    await pace.ConfigureAwait(false);
                }

                if (!await HandleFrameAsync(reader.DecodeFromClient(type), reader.Message.Length).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (ProtocolException ex)
        {
            RealtimeLog.ProtocolViolation(_server.Logger, Id, ex.Message, ex.CloseCode);
            string closeText = ex.CloseCode switch
            {
                CloseCodes.MessageTooBig => "Message too big",
                CloseCodes.PolicyViolation => "Message rate limit exceeded",
                _ => "Protocol error",
            };
            RequestClose(DisconnectReason.TransportError, ex.CloseCode, closeText, drain: false);
            violated = true;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            OnTransportFailure(ex);
        }
        catch (Exception ex)
        {
            OnUnexpectedFailure(ex);
        }
        finally
        {
            _inbound.Writer.TryComplete();
            Volatile.Read(ref _hello)?.TrySetResult(null);
        }

        if (violated)
        {
            await DiscardUntilPeerClosesAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After a protocol violation the server has sent its close frame; it keeps reading, and discarding, until the
    /// peer's close frame (or the close timer aborts the socket). Ending at once would close a socket with unread
    /// input, which the kernel answers with a reset that can destroy the close frame before the peer reads it.
    /// </summary>
    private async Task DiscardUntilPeerClosesAsync()
    {
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while ((await _socket.ReceiveAsync(scratch.AsMemory(), CancellationToken.None).ConfigureAwait(false)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            // Aborted by the close timer, or the peer went away: either way the close is over.
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Applies the rate limit to the frame just read: at once when a token is there, otherwise by not reading the socket
    /// until one is (the sender is slowed down, and loses nothing). A sender held back for longer than
    /// <see cref="RealtimeOptions.MaxThrottleTime"/> without a break is closed with 1008.
    /// </summary>
    private ValueTask PaceAsync()
    {
        if (!_rateLimited)
        {
            return ValueTask.CompletedTask;
        }

        long now = _server.Time.GetTimestamp();
        TimeSpan wait = _rate.TryTake(now);
        if (wait == TimeSpan.Zero)
        {
            _throttledSince = 0;
            return ValueTask.CompletedTask;
        }

        if (_throttledSince == 0)
        {
            _throttledSince = now;
        }
        else if (_server.Time.GetElapsedTime(_throttledSince, now) >= _server.Options.MaxThrottleTime)
        {
            throw new ProtocolException(CloseCodes.PolicyViolation,
                $"Held back by the rate limit for {_server.Options.MaxThrottleTime} without a break (Realtime:MaxMessagesPerSecond {_server.Options.MaxMessagesPerSecond}, Realtime:MaxThrottleTime).");
        }

        return WaitForTokenAsync(wait);
    }

    private async ValueTask WaitForTokenAsync(TimeSpan wait)
    {
        BeginPause(rateLimit: true);
        try
        {
            do
            {
                await Task.Delay(wait, _server.Time).ConfigureAwait(false);
                wait = _rate.TryTake(_server.Time.GetTimestamp());
            }
            while (wait > TimeSpan.Zero);
        }
        finally
        {
            EndPause();
        }
    }

    /// <summary>The receive loop stops reading on purpose: from now until <see cref="EndPause"/> no ping deadline runs out.</summary>
    private void BeginPause(bool rateLimit)
    {
        Volatile.Write(ref _pausedSince, _server.Time.GetTimestamp());
        _server.Metrics.ReceivePaused(rateLimit); // after the pause is visible: whoever observes the metric sees it
    }

    /// <summary>
    /// Reading again: the outstanding ping's deadline moves on by the part of the pause that came after the ping, since the
    /// client's pong could not be read meanwhile. Only the receive loop clears the outstanding ping, so the update cannot
    /// lose a pong; the heartbeat only ever sets it from 0.
    /// </summary>
    private void EndPause()
    {
        long now = _server.Time.GetTimestamp();
        long pausedSince = Volatile.Read(ref _pausedSince);
        long outstanding = Volatile.Read(ref _pingOutstandingSince);
        if (outstanding != 0)
        {
            Interlocked.CompareExchange(ref _pingOutstandingSince, outstanding + (now - Math.Max(outstanding, pausedSince)), outstanding);
        }

        Volatile.Write(ref _pausedSince, 0);
    }

    /// <summary>Queues a message for the processing loop within both bounds (messages and bytes); one larger message still fits an empty queue.</summary>
    private bool TryQueueInbound(InboundMessage item)
        => ByteBoundedQueue.TryWrite(_inbound.Writer, item, item.Size, ref _inboundBytes, RealtimeDefaults.InboundQueueBytes);

    /// <summary>The application is behind: stop reading the socket (TCP back-pressure) until the processing loop makes room.</summary>
    /// <returns><see langword="false"/> when the connection closed meanwhile (the message is dropped, like any after the server closed).</returns>
    private async ValueTask<bool> QueueInboundWhenRoomAsync(InboundMessage item)
    {
        BeginPause(rateLimit: false);
        try
        {
            while (true)
            {
                Task room = _inboundRoom.Arm();
                if (TryQueueInbound(item))
                {
                    return true;
                }

                if (Volatile.Read(ref _closeRequested) != 0)
                {
                    return false;
                }

                await room.ConfigureAwait(false);
            }
        }
        finally
        {
            _inboundRoom.Disarm();
            EndPause();
        }
    }

    /// <summary>Called by the processing loop for each message it takes, and by a close: wakes a receive loop waiting for room.</summary>
    private void OnInboundTaken(int size)
    {
        Interlocked.Add(ref _inboundBytes, -size);
        _inboundRoom.Signal();
    }

    /// <summary>Wire bytes waiting in the inbound queue (for tests).</summary>
    internal long InboundQueuedBytes => Volatile.Read(ref _inboundBytes);

    /// <summary>Messages waiting in the inbound queue (for tests).</summary>
    internal int InboundQueuedMessages => _inbound.Reader.Count;

    private async ValueTask<bool> HandleFrameAsync(Frame frame, int size)
    {
        switch (frame.Kind)
        {
            case FrameKind.Hello when !_helloSeen:
                _helloSeen = true;
                Volatile.Read(ref _hello)?.TrySetResult(frame);
                return true;
            case FrameKind.Hello:
                throw new ProtocolException(CloseCodes.ProtocolError, "A second hello frame.");
            case FrameKind.Pong or FrameKind.Message when !_helloSeen:
                throw new ProtocolException(CloseCodes.ProtocolError, "A frame before hello.");
            case FrameKind.Pong:
                OnPong();
                return true;
            case FrameKind.Message:
                _server.Metrics.MessageReceived();

                // Waits when the application is behind: back-pressure onto TCP instead of unbounded memory.
                var item = new InboundMessage(frame.Message, size);
                return TryQueueInbound(item) || await QueueInboundWhenRoomAsync(item).ConfigureAwait(false);

            case FrameKind.Unknown:
                throw new ProtocolException(CloseCodes.ProtocolError, "A text frame of an unknown kind.");
            default:
                throw new ProtocolException(CloseCodes.ProtocolError, $"A {frame.Kind} frame is sent by servers only.");
        }
    }
}
