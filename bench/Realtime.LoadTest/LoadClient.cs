using System.Net.WebSockets;

namespace Realtime.LoadTest;

/// <summary>A plain <see cref="ClientWebSocket"/> driven through a <see cref="Wire"/>: the same client cost for every system.</summary>
internal sealed class LoadClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Wire _wire;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private Task _receiveLoop = Task.CompletedTask;

    private LoadClient(ClientWebSocket socket, Wire wire)
    {
        _socket = socket;
        _wire = wire;
    }

    /// <summary>Called on the receive loop for every payload that arrives.</summary>
    public Action<Payload>? OnPayload { get; set; }

    public static async Task<LoadClient> ConnectAsync(Wire wire, int port, string room, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        foreach (string protocol in wire.SubProtocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        try
        {
            await socket.ConnectAsync(wire.Url(port, room), cancellationToken);
            await wire.HandshakeAsync(socket, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new LoadClient(socket, wire);
        client._receiveLoop = client.ReceiveLoopAsync();
        return client;
    }

    public async Task SendAsync(byte[] frame)
    {
        await _sendGate.WaitAsync();
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiveLoop;
        _socket.Dispose();
        _sendGate.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new Ref<byte[]>(new byte[16 * 1024]);
        try
        {
            while (true)
            {
                (int count, WebSocketMessageType type) = await WebSocketMessages.ReceiveAsync(_socket, buffer, CancellationToken.None);
                if (type == WebSocketMessageType.Close)
                {
                    return;
                }

                ReadOnlySpan<byte> message = buffer.Value.AsSpan(0, count);
                if (_wire.HeartbeatReply(message) is { } reply)
                {
                    _ = SendAsync(reply);
                }

                // Not "else": SignalR may batch a keep-alive record and invocations in one message.
                if (OnPayload is { } onPayload)
                {
                    Payload.ForEach(message, onPayload);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closed or aborted.
        }
    }
}
