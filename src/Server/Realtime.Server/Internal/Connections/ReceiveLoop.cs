using System.Net.WebSockets;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// One connection's reads: whole WebSocket messages, paced by the rate limit, through the protocol's reader. Application messages and
/// pongs go straight to the connection's way in (<see cref="ConnectionInbound"/>); the opening request, replies and closes go to the
/// connection. Heartbeat answers are handled here, so a slow application never delays them. It is the only code that reads the socket.
/// </summary>
internal sealed class ReceiveLoop
{
    private readonly ServerConnection _connection;
    private readonly ConnectionInbound _inbound;
    private readonly WebSocket _socket;
    private readonly RealtimeServer _server;
    private readonly ProtocolReader _reader;
    private readonly bool _rateLimited;
    private readonly KeyValuePair<string, object?> _protocolTag; // the connection's realtime.protocol, built once
    private TokenBucket _rate;

    /// <summary>When the rate limit started holding this sender back without a break (0: it is not).</summary>
    private long _throttledSince;

    public ReceiveLoop(ServerConnection connection, ConnectionInbound inbound, WebSocket socket, RealtimeServer server, RealtimeProtocol protocol)
    {
        _connection = connection;
        _inbound = inbound;
        _socket = socket;
        _server = server;
        _reader = protocol.CreateReader();
        _protocolTag = MetricTags.Protocol(protocol);
        RealtimeOptions options = server.Options;
        _rateLimited = options.MaxMessagesPerSecond > 0;
        if (_rateLimited)
        {
            _rate = new TokenBucket(options.MaxMessagesPerSecond, options.MessageBurst, server.Time.TimestampFrequency);
        }
    }

    /// <summary>Reads until the socket closes or the client breaks the protocol; every way out has requested the close.</summary>
    public async Task RunAsync()
    {
        using var messages = new WebSocketMessageReader();
        bool violated = false;
        try
        {
            while (true)
            {
                WebSocketMessageType type = await messages.ReadAsync(_socket, _server.Options.MaxMessageSize, CancellationToken.None).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close)
                {
                    // The client's close frame: its code says why (a client's own close, or a page going away).
                    _connection.RequestClose(CloseCodes.ReasonForClientClose((int?)_socket.CloseStatus), CloseCodes.NormalClosure, string.Empty, drain: false);
                    return;
                }

                RealtimeMetrics metrics = _server.Metrics;
                metrics.BytesReceived(messages.Message.Length, _protocolTag);
                ValueTask pace = PaceAsync();
                if (!pace.IsCompletedSuccessfully)
                {
                    await pace.ConfigureAwait(false);
                }

                // The message's arrival, for realtime.server.message.duration, once the rate limit let it through (a sender held back
                // is slowed down on purpose, not the server being slow): the clock is read only while that is listened to.
                long arrived = metrics.MeasuresMessageDuration ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;

                InboundEvent inbound = _reader.Read(type, messages.Message);
                switch (inbound.Kind)
                {
                    case InboundKind.Hello:
                        _connection.OnHello(inbound.Auth, inbound.Trace, inbound.Recovery);
                        break;
                    case InboundKind.Pong:
                        _inbound.OnPong();
                        break;
                    case InboundKind.Message:
                        metrics.MessageReceived(_protocolTag);
                        ValueTask<bool> queued = _inbound.OfferAsync(inbound.Message, messages.Message.Length, new InboundStamp(arrived, inbound.Trace));
                        if (!(queued.IsCompletedSuccessfully ? queued.Result : await queued.ConfigureAwait(false)))
                        {
                            return;
                        }

                        break;
                    case InboundKind.Reply:
                        if (inbound.Problem is { } problem)
                        {
                            RealtimeLog.MessageUndecodable(_server.Logger, _connection.Id, problem);
                        }

                        _connection.SendReply(inbound.Reply);
                        break;
                    case InboundKind.Goodbye:
                        _connection.RequestClose(DisconnectReason.ClientDisconnect, CloseCodes.NormalClosure, string.Empty, drain: false);
                        break;
                    case InboundKind.Violation:
                        throw new ProtocolException(inbound.CloseCode, inbound.Problem ?? "Protocol violation.");
                }
            }
        }
        catch (ProtocolException ex)
        {
            RealtimeLog.ProtocolViolation(_server.Logger, _connection.Id, ex.Message, ex.CloseCode);
            _connection.NoteRefusal(MetricTags.BadRequest); // a client that broke the protocol before it was accepted
            string closeText = ex.CloseCode switch
            {
                CloseCodes.MessageTooBig => "Message too big",
                CloseCodes.PolicyViolation => "Message rate limit exceeded",
                _ => "Protocol error",
            };
            _connection.RequestClose(DisconnectReason.TransportError, ex.CloseCode, closeText, drain: false);
            violated = true;
        }
        catch (Exception ex) when (_connection.IsTransportFailure(ex))
        {
            TransportFailures.OnTransportFailure(_connection, ex);
        }
        catch (Exception ex)
        {
            TransportFailures.OnUnexpectedFailure(_connection, ex);
        }

        if (violated)
        {
            await DiscardUntilPeerClosesAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After a protocol violation the server has sent its close frame; it keeps reading, and discarding, until the peer's close
    /// frame (or the close timer aborts the socket). Ending at once would close a socket with unread input, which the kernel
    /// answers with a reset that can destroy the close frame before the peer reads it.
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
        catch (Exception ex) when (_connection.IsTransportFailure(ex))
        {
            // Aborted by the close timer, or the peer went away: either way the close is over.
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Applies the rate limit to the frame just read: at once when a token is there, otherwise by not reading the socket until one
    /// is (the sender is slowed down, and loses nothing). A sender held back for longer than <see cref="RealtimeOptions.MaxThrottleTime"/>
    /// without a break is closed with 1008.
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
        _inbound.BeginPause(rateLimit: true);
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
            _inbound.EndPause();
        }
    }
}
