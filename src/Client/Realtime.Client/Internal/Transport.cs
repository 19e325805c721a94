using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Nito.AsyncEx;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Client.Internal;

/// <summary>How a connected transport ended.</summary>
internal readonly record struct TransportEnd(DisconnectReason Reason, bool AllowReconnect);

/// <summary>
/// One WebSocket from open to close: the handshake (<see cref="OpenAsync"/>), then the connected phase
/// (<see cref="RunAsync"/>) with one receive loop, one send loop (the only writer) and the heartbeat watchdog.
/// A reconnection is a new transport.
/// </summary>
internal sealed class Transport
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly ChannelReader<OutboundFrame> _outbound;
    private readonly AsyncAutoResetEvent _signal;
    private readonly EventDispatcher _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _closeRequested = new();
    private readonly WebSocketMessageReader _reader;
    private int _pongOwed;
    private int _closeToSend;
    private volatile bool _drainOnClose;
    private volatile bool _watchdogFired;
    private CancellationTokenSource? _closeDeadline;
    private string? _lastPosition; // written by the receive loop only; read once the run has ended

    private Transport(WebSocket socket, WebSocketMessageReader reader, Frame welcome, ChannelReader<OutboundFrame> outbound,
                      AsyncAutoResetEvent signal, EventDispatcher events, TimeProvider time, ILogger logger)
    {
        _socket = socket;
        _reader = reader;
        _outbound = outbound;
        _signal = signal;
        _events = events;
        _time = time;
        _logger = logger;
        Id = welcome.ConnectionId!;
        MaxReceiveSize = welcome.MaxMessageSize + ProtocolLimits.EnvelopeAllowance;
        WatchdogTimeout = TimeSpan.FromMilliseconds((double)welcome.PingInterval + welcome.PingTimeout);
        ResumeToken = welcome.ResumeToken;
        Recovered = welcome.Recovered == true;
        _lastPosition = welcome.Position;
    }

    public string Id { get; }

    public int MaxReceiveSize { get; }

    public TimeSpan WatchdogTimeout { get; }

    /// <summary>The resume token the <c>welcome</c> issued for this connection; <see langword="null"/> when the room keeps no history.</summary>
    public string? ResumeToken { get; }

    /// <summary>Whether the <c>welcome</c> said <c>recovered: true</c>: the broadcasts missed since the offered position follow it.</summary>
    public bool Recovered { get; }

    /// <summary>
    /// The last room position received: the <c>welcome</c>'s, then that of each positioned message handed to the dispatcher. Read it
    /// once <see cref="RunAsync"/> has completed (the receive loop writes it without a barrier of its own).
    /// </summary>
    public string? LastPosition => _lastPosition;

    /// <summary>Opens the WebSocket, sends <c>hello</c> and waits for <c>welcome</c>.</summary>
    /// <exception cref="RealtimeConnectException">Rejected (<see cref="RealtimeConnectException.IsRejection"/>), closed or unreachable.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (including by the attempt's timeout).</exception>
    public static async Task<Transport> OpenAsync(Uri uri, ClientOptions options, Task<ReadOnlyMemory<byte>> hello, ChannelReader<OutboundFrame> outbound,
                                                  AsyncAutoResetEvent signal, EventDispatcher events, ILogger logger, CancellationToken cancellationToken)
    {
        // hello is being encoded (its auth asked of the provider) while the upgrade runs; a failure of either is
        // reported only once the upgrade is over, so the first event of a connection always follows a network exchange.
        WebSocket socket;
        try
        {
            socket = await OpenSocketAsync(uri, options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _ = hello.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        var reader = new WebSocketMessageReader();
        try
        {
            ReadOnlyMemory<byte> helloFrame = await hello.ConfigureAwait(false);
            await socket.SendAsync(helloFrame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            string? rejection = null;
            while (true)
            {
                WebSocketMessageType type = await reader.ReadAsync(socket, ProtocolLimits.DefaultMaxMessageSize, cancellationToken).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close)
                {
                    int code = (int?)socket.CloseStatus ?? CloseCodes.NoStatus;
                    await CloseQuietlyAsync(socket, CloseCodes.NormalClosure).ConfigureAwait(false);
                    throw code == CloseCodes.HandshakeRejected
                        ? new RealtimeConnectException(rejection ?? socket.CloseStatusDescription ?? "Connection rejected") { IsRejection = true }
                        : new RealtimeConnectException($"The server closed the connection during the handshake (close code {code}).");
                }

                Frame frame = reader.Decode(type);
                if (frame.Kind == FrameKind.Welcome)
                {
                    return new Transport(socket, reader, frame, outbound, signal, events, options.TimeProvider, logger);
                }

                if (frame.Kind == FrameKind.Reject)
                {
                    // Close 4002 follows; the exception is thrown when it arrives, with this text.
                    rejection = frame.Text;
                }
            }
        }
        catch
        {
            reader.Dispose();
            socket.Abort();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The connected phase: runs until the connection ends, and says how.</summary>
    public async Task<TransportEnd> RunAsync()
    {
        Task sendLoop = SendLoopAsync();
        using ITimer watchdog = _time.CreateTimer(static s => ((Transport)s!).OnWatchdog(), this, WatchdogTimeout, Timeout.InfiniteTimeSpan);
        TransportEnd end = await ReceiveLoopAsync(watchdog).ConfigureAwait(false);

        // A close frame still owed (an answer to the server's close, or ours after a protocol error) is sent by the
        // send loop; otherwise stop it. Either way, do not wait on a stuck socket for long.
        if (Volatile.Read(ref _closeToSend) == 0)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        using (var sendDeadline = new CancellationTokenSource())
        {
            if (await Task.WhenAny(sendLoop, Task.Delay(CloseTimeout, _time, sendDeadline.Token)).ConfigureAwait(false) != sendLoop)
            {
                _socket.Abort();
                await sendLoop.ConfigureAwait(false);
            }

            await sendDeadline.CancelAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _closeDeadline, null)?.Dispose();

        _socket.Dispose();
        _reader.Dispose();
        _stop.Dispose();
        _closeRequested.Dispose();
        return end;
    }

    /// <summary>Closes from the client (1000): what is queued is sent first, then the close frame.</summary>
    public void RequestClose()
    {
        _drainOnClose = true;
        try
        {
            _closeRequested.Cancel(); // a receive loop waiting for handlers stops waiting: what arrives now is dropped
        }
        catch (ObjectDisposedException)
        {
            return; // the transport has already ended
        }

        RequestCloseFrame(CloseCodes.NormalClosure);

        // If the server never answers, the receive loop must still end: abort at the deadline (disposed when the run ends).
        var deadline = new CancellationTokenSource(CloseTimeout, _time);
        deadline.Token.Register(static s => ((WebSocket)s!).Abort(), _socket);
        if (Interlocked.CompareExchange(ref _closeDeadline, deadline, null) is not null)
        {
            deadline.Dispose();
        }
    }

    private static async Task<WebSocket> OpenSocketAsync(Uri uri, ClientOptions options, CancellationToken cancellationToken)
    {
        string[] protocols = [ProtocolLimits.SubProtocol];
        if (options.WebSocketFactory is { } factory)
        {
            return await factory(uri, protocols, cancellationToken).ConfigureAwait(false);
        }

        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProtocolLimits.SubProtocol);
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // the protocol's ping/pong is the heartbeat
        try
        {
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task CloseQuietlyAsync(WebSocket socket, int code)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await socket.CloseOutputAsync((WebSocketCloseStatus)code, string.Empty, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket is going away anyway.
        }
    }

    private void RequestCloseFrame(int code)
    {
        Interlocked.CompareExchange(ref _closeToSend, code, 0);
        _signal.Set();
    }

    private async Task<TransportEnd> ReceiveLoopAsync(ITimer watchdog)
    {
        try
        {
            while (true)
            {
                WebSocketMessageType type = await _reader.ReadAsync(_socket, MaxReceiveSize, CancellationToken.None).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close)
                {
                    if (_drainOnClose)
                    {
                        return new TransportEnd(DisconnectReason.ClientDisconnect, AllowReconnect: false);
                    }

                    int code = (int?)_socket.CloseStatus ?? CloseCodes.NoStatus;
                    RequestCloseFrame(CloseCodes.NormalClosure);
                    return new TransportEnd(CloseCodes.ReasonForServerClose(code), CloseCodes.AllowsReconnect(code));
                }

                Frame frame = _reader.Decode(type);
                switch (frame.Kind)
                {
                    case FrameKind.Ping:
                        // Answered here, on the receive loop, so that busy handlers never delay the heartbeat.
                        watchdog.Change(WatchdogTimeout, Timeout.InfiniteTimeSpan);
                        Volatile.Write(ref _pongOwed, 1);
                        _signal.Set();
                        break;
                    case FrameKind.Message:
                        ValueTask raised = _events.RaiseMessageAsync(frame.Message, _reader.Message.Length, _closeRequested.Token);
                        if (!raised.IsCompletedSuccessfully)
                        {
                            // The handlers are behind: stop reading (TCP back-pressure) until they catch up. The server is
                            // not to blame for the silence meanwhile, so the watchdog waits too.
                            watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                            await raised.ConfigureAwait(false);
                            watchdog.Change(WatchdogTimeout, Timeout.InfiniteTimeSpan);
                        }

                        if (frame.Position is { } position)
                        {
                            // Queued for its handlers: a reconnection offers to resume after it. The string is the reader's own.
                            _lastPosition = position;
                        }

                        break;
                    case FrameKind.Error:
                        _events.Raise(ConnectionEvents.Error, (Exception)new RealtimeException(frame.Text ?? string.Empty));
                        break;
                    default:
                        // Clients ignore frame kinds they do not know (and server-bound ones).
                        break;
                }
            }
        }
        catch (ProtocolException ex)
        {
            ClientLog.ProtocolViolation(_logger, ex.Message, ex.CloseCode);
            RequestCloseFrame(ex.CloseCode);
            return new TransportEnd(DisconnectReason.TransportError, AllowReconnect: true);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            if (_watchdogFired)
            {
                return new TransportEnd(DisconnectReason.PingTimeout, AllowReconnect: true);
            }

            if (_drainOnClose)
            {
                return new TransportEnd(DisconnectReason.ClientDisconnect, AllowReconnect: false);
            }

            bool vanished = ex is WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely };
            return new TransportEnd(vanished ? DisconnectReason.TransportClose : DisconnectReason.TransportError, AllowReconnect: true);
        }
    }

    /// <summary>The only code that writes to the socket: pongs first, then queued messages, then at most one close frame.</summary>
    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                if (Interlocked.Exchange(ref _pongOwed, 0) == 1)
                {
                    await SendAsync(new OutboundFrame(FrameWriter.PongFrame, IsBinary: false)).ConfigureAwait(false);
                    continue;
                }

                int close = Volatile.Read(ref _closeToSend);
                if (close != 0)
                {
                    while (_drainOnClose && _outbound.TryRead(out OutboundFrame queued))
                    {
                        await SendAsync(queued).ConfigureAwait(false);
                    }

                    await CloseQuietlyAsync(_socket, close).ConfigureAwait(false);
                    return;
                }

                if (_outbound.TryRead(out OutboundFrame frame))
                {
                    await SendAsync(frame).ConfigureAwait(false);
                    continue;
                }

                await _signal.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // A write failure ends the connection: the receive loop then reports why.
            _socket.Abort();
        }
    }

    private ValueTask SendAsync(OutboundFrame frame)
        => _socket.SendAsync(frame.Bytes, frame.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, endOfMessage: true, _stop.Token);

    private void OnWatchdog()
    {
        ClientLog.PingTimedOut(_logger, WatchdogTimeout);
        _watchdogFired = true;
        _socket.Abort();
    }
}
