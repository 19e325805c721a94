using Microsoft.AspNetCore.Http;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;

namespace Realtime.Server;

public sealed partial class ServerConnection
{
    private ConnectContext? _connectContext;
    private bool _roomCreated;

    /// <summary>Runs the connection from the upgrade to the end, then returns (the HTTP request then completes).</summary>
    internal async Task RunAsync(HttpContext httpContext)
    {
        _server.AddHandshaking(this);
        Task sendLoop = SendLoopAsync();
        Task receiveLoop = ReceiveLoopAsync();
        try
        {
            await HandshakeAsync(httpContext).ConfigureAwait(false);
            _server.RemoveHandshaking(this);

            // Accepted means welcome was queued (and the connection joined its room): it then gets the whole
            // lifecycle, even if it closed meanwhile, so that it always leaves its room again.
            if (_accepted)
            {
                ConnectContext context = _connectContext!;
                _connectContext = null;
                await RunAcceptedAsync(context).ConfigureAwait(false);
            }
            else
            {
                _server.Metrics.HandshakeFailed();
            }
        }
        catch (Exception ex)
        {
            RealtimeLog.UnexpectedError(_server.Logger, Id, ex);
            RequestClose(DisconnectReason.TransportError, CloseCodes.InternalError, "Internal server error", drain: false);
        }
        finally
        {
            _server.RemoveHandshaking(this);

            // Every path that ends processing has requested a close already; this is a safety net.
            RequestClose(DisconnectReason.TransportError, CloseCodes.InternalError, "Internal server error", drain: false);
            if (_accepted)
            {
                await LeaveAsync().ConfigureAwait(false);
            }

            // Neither loop throws; the close timer aborts the socket if the peer never completes the close.
            await Task.WhenAll(sendLoop, receiveLoop).ConfigureAwait(false);
            Interlocked.Exchange(ref _closeTimer, null)?.Dispose();
            _admission?.Dispose(); // the connection no longer counts towards the connection limits
            RealtimeLog.ConnectionClosed(_server.Logger, Id, _reason, _closeCode);
            if (_accepted)
            {
                await _server.DisconnectHooks.InvokeAsync(new DisconnectContext(this, _reason), _server.Logger, Id).ConfigureAwait(false);
            }
        }
    }

    private async Task HandshakeAsync(HttpContext httpContext)
    {
        using var timeoutCts = new CancellationTokenSource();
        Task handshake = HandshakeCoreAsync(httpContext);
        Task timeout = Task.Delay(_server.Options.HandshakeTimeout, _server.Time, timeoutCts.Token);
        if (await Task.WhenAny(handshake, timeout).ConfigureAwait(false) == handshake)
        {
            await timeoutCts.CancelAsync().ConfigureAwait(false);
            await handshake.ConfigureAwait(false);
            return;
        }

        // The middleware may still be running; once the state is Closing it can no longer accept the connection.
        RealtimeLog.HandshakeTimedOut(_server.Logger, Id, _server.Options.HandshakeTimeout);
        RequestClose(DisconnectReason.TransportError, CloseCodes.HandshakeTimeout, "Handshake timeout", drain: false);
    }

    private async Task HandshakeCoreAsync(HttpContext httpContext)
    {
        Frame? hello = await _hello!.Task.ConfigureAwait(false);
        Volatile.Write(ref _hello, null);
        if (hello is null)
        {
            return;
        }

        Auth = hello.Value.Auth;
        if (!RoomIdValid)
        {
            Reject("Invalid roomId");
            return;
        }

        var context = new ConnectContext(this, httpContext);
        _connectContext = context;
        try
        {
            await _server.ConnectMiddleware.InvokeAsync(context, () =>
            {
                if (context.RejectMessage is null)
                {
                    TryAccept();
                }

                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // Middleware that honours RequestAborted gave up because the client went away: not a failure of the application.
            if (!_accepted)
            {
                Reject("Connection aborted");
                return;
            }
        }
        catch (Exception ex)
        {
            RealtimeLog.ConnectMiddlewareFailed(_server.Logger, Id, ex);
            if (!_accepted)
            {
                Reject("Internal server error");
                return;
            }
        }

        if (!_accepted)
        {
            Reject(context.RejectMessage ?? "Connection rejected");
        }
    }

    /// <summary>
    /// The end of connect middleware: register the connection, then join its room and queue <c>welcome</c> in one
    /// step, unless the connection is already closing. A broadcast to the room thus reaches it after its welcome or
    /// not at all, and a client that has seen <c>welcome</c> receives every broadcast sent after it.
    /// </summary>
    private void TryAccept()
    {
        if (Interlocked.CompareExchange(ref _state, StateOpen, StateHandshaking) != StateHandshaking)
        {
            return;
        }

        _accepted = true;
        StartHeartbeat();
        _server.Register(this);
        OutboundFrame welcome = FrameEncoder.Encode(this, static (output, c) => FrameWriter.WriteWelcome(output, c.Id, c.RoomId,
            (int)c._server.Options.PingInterval.TotalMilliseconds, (int)c._server.Options.PingTimeout.TotalMilliseconds, c._server.Options.MaxMessageSize));
        _roomCreated = _server.Broker.Join(this, welcome);
    }

    private void Reject(string message)
    {
        if (Volatile.Read(ref _state) != StateHandshaking)
        {
            return;
        }

        RealtimeLog.ConnectionRejected(_server.Logger, Id);
        TryQueue(FrameEncoder.Encode(message, static (output, m) => FrameWriter.WriteReject(output, m)));
        RequestClose(DisconnectReason.ServerDisconnect, CloseCodes.HandshakeRejected, "Handshake rejected", drain: true);
    }

    private async Task RunAcceptedAsync(ConnectContext context)
    {
        RealtimeLog.ConnectionAccepted(_server.Logger, Id, RoomId);
        if (_roomCreated)
        {
            await _server.CreateRoomHooks.InvokeAsync(new RoomContext(RoomId, null), _server.Logger, Id).ConfigureAwait(false);
        }

        await _server.EnterRoomHooks.InvokeAsync(new RoomContext(RoomId, this), _server.Logger, Id).ConfigureAwait(false);
        await _server.ConnectHooks.InvokeAsync(context, _server.Logger, Id).ConfigureAwait(false);

        // Messages are processed in arrival order, one at a time, and not before the connect hooks finished.
        while (await _inbound.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_inbound.Reader.TryRead(out InboundMessage item))
            {
                OnInboundTaken(item.Size);

                // Once the server has closed the connection, what it still sent is dropped; a client's own close keeps its earlier messages.
                if (Connected || _reason == DisconnectReason.ClientDisconnect)
                {
                    await ProcessMessageAsync(item.Message).ConfigureAwait(false);
                }
            }
        }
    }

    private ValueTask ProcessMessageAsync(Message message)
    {
        var context = new MessageContext(this, message);
        return _server.MessageMiddleware.IsEmpty
            ? _server.MessageHooks.InvokeAsync(context, _server.Logger, Id)
            : ProcessThroughMiddlewareAsync(context);
    }

    private async ValueTask ProcessThroughMiddlewareAsync(MessageContext context)
    {
        bool passed = false;
        try
        {
            await _server.MessageMiddleware.InvokeAsync(context, () =>
            {
                passed = true;
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.MessageMiddlewareFailed(_server.Logger, Id, ex);
            SendError("Internal server error");
            return;
        }

        if (context.RejectMessage is not null)
        {
            SendError(context.RejectMessage);
        }
        else if (passed)
        {
            await _server.MessageHooks.InvokeAsync(context, _server.Logger, Id).ConfigureAwait(false);
        }
    }

    private void SendError(string message)
    {
        if (Connected)
        {
            Enqueue(FrameEncoder.Encode(message, static (output, m) => FrameWriter.WriteError(output, m)));
        }
    }

    private async Task LeaveAsync()
    {
        _server.Unregister(this, _reason);
        bool destroyed = _server.Broker.Leave(this);
        await _server.LeaveRoomHooks.InvokeAsync(new RoomContext(RoomId, this), _server.Logger, Id).ConfigureAwait(false);
        if (destroyed)
        {
            await _server.DestroyRoomHooks.InvokeAsync(new RoomContext(RoomId, null), _server.Logger, Id).ConfigureAwait(false);
        }
    }
}
