using System.Net.WebSockets;
using System.Threading.RateLimiting;
using System.Threading.Channels;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;

namespace Realtime.Server;

public sealed partial class ServerConnection
{
    /// <summary>Completed with the client's <c>hello</c> (or <see langword="null"/> when the socket ended first); dropped once the handshake has it, so an open connection does not keep it.</summary>
    private TaskCompletionSource<Frame?>? _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _helloSeen;

    /// <summary>The inbound token bucket (<see cref="RealtimeOptions.MaxMessagesPerSecond"/>), refilled by elapsed time when a frame arrives: no timer per connection.</summary>
    private readonly TokenBucketRateLimiter? _rateLimiter;

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

                CheckRate();
                if (!await HandleFrameAsync(reader.Decode(type)).ConfigureAwait(false))
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

    private void CheckRate()
    {
        if (_rateLimiter is null)
        {
            return;
        }

        _rateLimiter.TryReplenish();
        using RateLimitLease lease = _rateLimiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            throw new ProtocolException(CloseCodes.PolicyViolation, $"More than {_server.Options.MaxMessagesPerSecond} frames per second (burst {_server.Options.MessageBurst}).");
        }
    }

    private static TokenBucketRateLimiter? CreateRateLimiter(RealtimeOptions options) => options.MaxMessagesPerSecond <= 0 ? null : new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
    {
        TokenLimit = options.MessageBurst,
        TokensPerPeriod = options.MaxMessagesPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        AutoReplenishment = false,
        QueueLimit = 0,
    });

    private async ValueTask<bool> HandleFrameAsync(Frame frame)
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
                try
                {
                    // Waits when the application is behind: back-pressure onto TCP instead of unbounded memory.
                    await _inbound.Writer.WriteAsync(frame.Message).ConfigureAwait(false);
                    return true;
                }
                catch (ChannelClosedException)
                {
                    return false;
                }

            case FrameKind.Unknown:
                throw new ProtocolException(CloseCodes.ProtocolError, "A text frame of an unknown kind.");
            default:
                throw new ProtocolException(CloseCodes.ProtocolError, $"A {frame.Kind} frame is sent by servers only.");
        }
    }
}
