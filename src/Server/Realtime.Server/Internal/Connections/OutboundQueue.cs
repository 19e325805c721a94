using System.Net.WebSockets;
using Realtime.Internal;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// One connection's outbound frames and the send loop that drains them: the only code that writes to the socket, so no lock is
/// ever held across a send. Bounded by frames and by bytes; a producer never waits (a full queue is the caller's slow-consumer
/// signal). Built and used without a socket: the send loop is one consumer of <see cref="WaitToReadAsync"/> and <see cref="TryTake"/>.
/// </summary>
internal sealed class OutboundQueue
{
    /// <summary>At most this many payload bytes are gathered into one transport write (a bound on memory and on delay).</summary>
    internal const int BurstBytes = 16 * 1024;

    private readonly SingleReaderQueue<OutboundFrame> _frames;
    private readonly long _maxBytes;
    private readonly int _maxFrames;
    private long _bytes;
    private volatile bool _discard;
    private int _closeCode;
    private string? _closeText; // set once, by the first Complete

    public OutboundQueue(int maxFrames, long maxBytes)
    {
        _maxBytes = maxBytes;
        _maxFrames = maxFrames;
        _frames = new SingleReaderQueue<OutboundFrame>(maxFrames); // a full queue fails the write: that is the slow-consumer signal
    }

    /// <summary>Frames waiting.</summary>
    public int Count => _frames.Count;

    /// <summary>Bytes queued and not yet sent (a frame counts until its send completed, so a stuck send holds its bytes).</summary>
    public long QueuedBytes => Volatile.Read(ref _bytes);

    /// <summary>Whether <paramref name="frames"/> more frames of <paramref name="bytes"/> in all fit both bounds now.</summary>
    public bool HasRoomFor(int frames, long bytes) => Count + frames <= _maxFrames && QueuedBytes + bytes <= _maxBytes;

    /// <summary>Queues a frame within both bounds; one frame larger than the byte bound still fits an empty queue.</summary>
    /// <returns><see langword="false"/> when full or completed (nothing was queued).</returns>
    public bool TryEnqueue(OutboundFrame frame) => ByteBoundedQueue.TryWrite(_frames, frame, frame.Bytes.Length, ref _bytes, _maxBytes);

    /// <summary>
    /// No more frames: the send loop ends with a close frame of <paramref name="closeCode"/>, after the frames already queued, or
    /// at once when <paramref name="discard"/> (what is queued is dropped). Only the first call counts.
    /// </summary>
    public void Complete(int closeCode, string closeText, bool discard)
    {
        if (Interlocked.CompareExchange(ref _closeText, closeText, null) is not null)
        {
            return;
        }

        _closeCode = closeCode;
        _discard = discard;
        _frames.TryComplete();
    }

    /// <summary>The close code the send loop ends with (0 until <see cref="Complete"/>).</summary>
    public int CloseCode => _closeCode;

    /// <summary>Waits until a frame can be taken; <see langword="false"/> once the queue is completed and empty.</summary>
    public ValueTask<bool> WaitToReadAsync() => _frames.WaitToReadAsync();

    /// <summary>Takes the next frame to send, unless the queue is being discarded; call <see cref="Sent"/> once it is on the wire.</summary>
    public bool TryTake(out OutboundFrame frame)
    {
        if (_discard)
        {
            frame = default;
            return false;
        }

        return _frames.TryRead(out frame);
    }

    /// <summary>Frames taken have been sent: their bytes no longer count.</summary>
    public void Sent(long bytes) => Interlocked.Add(ref _bytes, -bytes);

    /// <summary>
    /// Sends every frame in order until the queue completes, then the close frame (unless the socket already closed its output).
    /// Socket failures end the loop and go to <paramref name="owner"/>; they never reach whoever queued a frame.
    /// </summary>
    /// <remarks>
    /// The loop takes one frame ahead: a frame with another behind it is sent with <paramref name="writes"/> coalescing, so a burst
    /// reaches the transport as one write, and the burst's last frame (or the one that reaches <see cref="BurstBytes"/>) clears it
    /// and writes them all. The burst's bytes stop counting against the bound once that write completed (one interlocked update
    /// per write, not per frame).
    /// </remarks>
    public async Task SendLoopAsync(WebSocket socket, ServerConnection owner, IWriteCoalescing? writes = null)
    {
        try
        {
            while (await WaitToReadAsync().ConfigureAwait(false))
            {
                if (!TryTake(out OutboundFrame frame))
                {
                    if (_discard)
                    {
                        break;
                    }

                    continue;
                }

                long burst = 0;
                while (true)
                {
                    bool more = TryTake(out OutboundFrame next);
                    burst += frame.Bytes.Length;
                    bool gather = more && burst < BurstBytes;
                    if (writes is not null)
                    {
                        writes.Coalesce = gather;
                    }

                    ReadOnlyMemory<byte> bytes = frame.Bytes;
                    if (frame.TextLength > 0)
                    {
                        // A text header and its binary attachment: gathered together, so they reach the transport as one write.
                        writes?.Coalesce = true;
                        await socket.SendAsync(bytes[..frame.TextLength], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None)
                                    .ConfigureAwait(false);
                        writes?.Coalesce = gather;
                        bytes = bytes[frame.TextLength..];
                    }

                    await socket.SendAsync(bytes, frame.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text,
                                           endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                    if (!gather)
                    {
                        Sent(burst); // written: a steady stream is accounted for every BurstBytes, not only when it pauses
                        owner.Server.Metrics.BytesSent(burst);
                        burst = 0;
                    }

                    if (!more)
                    {
                        break;
                    }

                    frame = next;
                }

                if (_discard)
                {
                    break;
                }
            }

            writes?.Coalesce = false;
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync((WebSocketCloseStatus)_closeCode, _closeText ?? string.Empty, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (owner.IsTransportFailure(ex))
        {
            TransportFailures.OnTransportFailure(owner, ex);
        }
        catch (Exception ex)
        {
            TransportFailures.OnUnexpectedFailure(owner, ex);
            owner.Abort(); // the send side is broken: no close frame can follow
        }
    }
}
