using System.Net.WebSockets;
using System.Text;
using Realtime.Protocol;

namespace Realtime.TestSupport;

/// <summary>A bare WebSocket that speaks (or breaks) the protocol by hand: for hostile input and server-side behaviour.</summary>
public sealed class RawProtocolClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private byte[] _buffer = new byte[16 * 1024]; // grows for larger messages: hundreds of these may be open at once

    private RawProtocolClient()
    {
    }

    public WebSocket Socket => _socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<RawProtocolClient> ConnectAsync(string url, string query = "roomId=room1", string[]? subProtocols = null)
    {
        var client = new RawProtocolClient();
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        foreach (string protocol in subProtocols ?? [ProtocolLimits.SubProtocol])
        {
            client._socket.Options.AddSubProtocol(protocol);
        }

        await client._socket.ConnectAsync(new Uri($"{url}?{query}"), CancellationToken.None).DefaultTimeout("the WebSocket upgrade");
        return client;
    }

    /// <summary>The connection id from <c>welcome</c>, for a client made by <see cref="ConnectWelcomedAsync"/>.</summary>
    public string? ConnectionId { get; private set; }

    /// <summary>Connects, sends <c>hello</c> and reads up to <c>welcome</c>: a client the server has accepted.</summary>
    public static async Task<RawProtocolClient> ConnectWelcomedAsync(string url, string query = "roomId=room1")
    {
        RawProtocolClient client = await ConnectAsync(url, query);
        await client.HelloAsync();
        string welcome = await client.ReceiveStartingWithAsync("{\"t\":\"welcome\"");
        client.ConnectionId = FrameReader.ReadText(Encoding.UTF8.GetBytes(welcome)).ConnectionId;
        return client;
    }

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendAsync(byte[] bytes, WebSocketMessageType type)
        => _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None).DefaultTimeout("a send");

    public Task HelloAsync(string? authJson = null) => SendTextAsync(authJson is null ? "{\"t\":\"hello\"}" : $"{{\"t\":\"hello\",\"auth\":{authJson}}}");

    /// <summary>Receives the next message: its text (binary as base64), or <see langword="null"/> when the server closed (see <see cref="CloseStatus"/>).</summary>
    public async Task<string?> ReceiveAsync()
    {
        int count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (count == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            result = await _socket.ReceiveAsync(_buffer.AsMemory(count), CancellationToken.None).AsTask().DefaultTimeout("a frame from the server");
            count += result.Count;
        }
        while (!result.EndOfMessage);

        byte[] buffer = _buffer;

        return result.MessageType switch
        {
            WebSocketMessageType.Close => null,
            WebSocketMessageType.Text => Encoding.UTF8.GetString(buffer, 0, count),
            _ => Convert.ToBase64String(buffer, 0, count),
        };
    }

    /// <summary>What <see cref="ReceiveCloseOrResetAsync"/> returns when the connection was reset instead of closed.</summary>
    public const int ConnectionReset = -1;

    /// <summary>Like <see cref="ReceiveCloseAsync"/>, but returns <see cref="ConnectionReset"/> when the TCP connection was reset.</summary>
    public async Task<int> ReceiveCloseOrResetAsync()
    {
        try
        {
            return await ReceiveCloseAsync();
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.ConnectionClosedPrematurely)
        {
            return ConnectionReset;
        }
    }

    /// <summary>Reads (and discards) frames until the server closes; returns the close code.</summary>
    public async Task<int> ReceiveCloseAsync()
    {
        while (await ReceiveAsync() is not null)
        {
        }

        // Answer the close as a well-behaved client does, so the server need not wait for its close timeout.
        if (_socket.State == WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout("the close answer");
        }

        return (int)_socket.CloseStatus!.Value;
    }

    /// <summary>Reads frames until one starts with <paramref name="prefix"/> (skipping pings unless asked for).</summary>
    public async Task<string> ReceiveStartingWithAsync(string prefix)
    {
        while (true)
        {
            string frame = await ReceiveAsync() ?? throw new InvalidOperationException($"The server closed ({_socket.CloseStatus}) before a frame starting with {prefix}.");
            if (frame.StartsWith(prefix, StringComparison.Ordinal))
            {
                return frame;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await Task.CompletedTask;
    }
}
