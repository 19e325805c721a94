using System.Buffers;
using System.Net.WebSockets;
using Realtime.Protocol;

namespace Realtime.Internal;

/// <summary>
/// Reads one whole WebSocket message (all fragments) into a pooled buffer that grows only as data
/// arrives and never past the limit + 1, so the size limit is enforced before any large allocation.
/// An idle connection holds no buffer: it waits for the next message with a zero-byte read. A busy one
/// (its last wait found data already there) reads straight into a pooled buffer, saving the extra pass
/// through the transport; if that read then has to wait, the reader falls back to zero-byte reads, so at
/// most one wait per quiet spell holds a buffer. Compiled into the server and the client (one source, no public type).
/// </summary>
internal sealed class WebSocketMessageReader : IDisposable
{
    private const int InitialSize = 4096;

    private byte[] _buffer = [];
    private int _count;
    private bool _busy;

    /// <summary>Whether a receive buffer is rented now (for tests: an idle connection's pending read holds none).</summary>
    internal bool HoldsBuffer => _buffer.Length > 0;

    /// <summary>The bytes of the last message read.</summary>
    public ReadOnlySpan<byte> Message => _buffer.AsSpan(0, _count);

    /// <summary>Reads the next whole message.</summary>
    /// <returns>Its type; <see cref="WebSocketMessageType.Close"/> when the peer closed.</returns>
    /// <exception cref="ProtocolException">1009 when the message is larger than <paramref name="maxSize"/>.</exception>
    public async ValueTask<WebSocketMessageType> ReadAsync(WebSocket socket, int maxSize, CancellationToken cancellationToken)
    {
        _count = 0;
        ValueWebSocketReceiveResult result;
        if (_busy && _buffer.Length == InitialSize)
        {
            // The last message's buffer is reused for the next one (unless it grew for a large message).
            ValueTask<ValueWebSocketReceiveResult> read = socket.ReceiveAsync(_buffer.AsMemory(), cancellationToken);
            _busy = read.IsCompleted;
            result = await read.ConfigureAwait(false);
            _count = result.Count;
        }
        else
        {
            // The last message has been decoded by now: give its buffer back before waiting for the next one.
            ReturnBuffer();
            ValueTask<ValueWebSocketReceiveResult> wait = socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            _busy = wait.IsCompleted;
            result = await wait.ConfigureAwait(false);
            if (result.EndOfMessage)
            {
                return result.MessageType; // a close, or an empty message
            }

            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }

        while (!result.EndOfMessage)
        {
            if (_count > maxSize)
            {
                throw new ProtocolException(CloseCodes.MessageTooBig, $"A message exceeded the limit of {maxSize} bytes.");
            }

            if (_count == _buffer.Length)
            {
                byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)_buffer.Length * 2, (long)maxSize + 1));
                _buffer.AsSpan(0, _count).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            result = await socket.ReceiveAsync(_buffer.AsMemory(_count), cancellationToken).ConfigureAwait(false);
            _count += result.Count;
        }

        if (_count > maxSize)
        {
            throw new ProtocolException(CloseCodes.MessageTooBig, $"A message exceeded the limit of {maxSize} bytes.");
        }

        return result.MessageType;
    }

    /// <summary>Decodes the last message read as a frame.</summary>
    public Frame Decode(WebSocketMessageType type)
        => type == WebSocketMessageType.Text ? FrameReader.ReadText(Message) : FrameReader.ReadBinary(Message);

    /// <summary>Decodes the last message read as a frame from a client (a server-only kind decodes as its kind, unchecked).</summary>
    public Frame DecodeFromClient(WebSocketMessageType type)
        => type == WebSocketMessageType.Text ? FrameReader.ReadClientText(Message) : FrameReader.ReadBinary(Message);

    public void Dispose() => ReturnBuffer();

    private void ReturnBuffer()
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
