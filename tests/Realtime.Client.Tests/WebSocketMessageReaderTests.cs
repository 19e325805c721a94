using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Realtime.Internal;
using Realtime.Protocol;

namespace Realtime.Client.Tests;

/// <summary>
/// The message reader shared by server and client, over a real loopback TCP connection: whole messages in order
/// whether they wait for data (zero-byte reads) or find it already there (direct reads into a reused buffer).
/// </summary>
public sealed class WebSocketMessageReaderTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private TcpClient? _client;
    private TcpClient? _server;
    private WebSocket _sender = null!;
    private WebSocket _receiver = null!;

    public async Task InitializeAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _client = new TcpClient();
        Task connect = _client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        _server = await listener.AcceptTcpClientAsync();
        await connect;
        _sender = WebSocket.CreateFromStream(_client.GetStream(), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        _receiver = WebSocket.CreateFromStream(_server.GetStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    }

    public Task DisposeAsync()
    {
        _sender.Dispose();
        _receiver.Dispose();
        _client?.Dispose();
        _server?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_burst_of_small_large_and_fragmented_messages_arrives_whole_and_in_order()
    {
        // Sent before any read: after the first, every read finds its data already there (the direct-read path).
        byte[][] messages = [.. Enumerable.Range(0, 60).Select(i => Payload(i, (i % 7) switch { 0 => 9000, 3 => 4096, 5 => 4097, _ => 10 + i }))];
        foreach ((byte[] message, int i) in messages.Select((m, i) => (m, i)))
        {
            if (i % 4 == 1)
            {
                int half = message.Length / 2;
                await _sender.SendAsync(message.AsMemory(0, half), WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);
                await _sender.SendAsync(message.AsMemory(half), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
            else
            {
                await _sender.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
        }

        using var reader = new WebSocketMessageReader();
        foreach (byte[] expected in messages)
        {
            Assert.Equal(WebSocketMessageType.Binary, await reader.ReadAsync(_receiver, 64 * 1024, CancellationToken.None).AsTask().WaitAsync(Timeout));
            Assert.Equal(expected, reader.Message.ToArray());
        }
    }

    [Fact]
    public async Task A_message_over_the_limit_behind_small_ones_is_refused_with_1009()
    {
        for (int i = 0; i < 5; i++)
        {
            await _sender.SendAsync(Payload(i, 100), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        }

        await _sender.SendAsync(Payload(5, 3000), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        using var reader = new WebSocketMessageReader();
        for (int i = 0; i < 5; i++)
        {
            await reader.ReadAsync(_receiver, 2048, CancellationToken.None).AsTask().WaitAsync(Timeout);
            Assert.Equal(Payload(i, 100), reader.Message.ToArray());
        }

        ProtocolException refused = await Assert.ThrowsAsync<ProtocolException>(() => reader.ReadAsync(_receiver, 2048, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Equal(CloseCodes.MessageTooBig, refused.CloseCode);
    }

    [Fact]
    public async Task After_a_quiet_spell_a_waiting_read_holds_no_buffer()
    {
        using var reader = new WebSocketMessageReader();
        await _sender.SendAsync(Payload(0, 100), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await reader.ReadAsync(_receiver, 4096, CancellationToken.None).AsTask().WaitAsync(Timeout);

        // This read has to wait for its message, so the reader counts the connection as quiet from then on ...
        Task<WebSocketMessageType> waited = reader.ReadAsync(_receiver, 4096, CancellationToken.None).AsTask();
        Assert.False(waited.IsCompleted);
        await _sender.SendAsync(Payload(1, 100), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await waited.WaitAsync(Timeout);
        Assert.Equal(Payload(1, 100), reader.Message.ToArray());

        // ... and waits for the next one with a zero-byte read, holding no buffer.
        Task<WebSocketMessageType> idle = reader.ReadAsync(_receiver, 4096, CancellationToken.None).AsTask();
        Assert.False(idle.IsCompleted);
        Assert.False(reader.HoldsBuffer);
        await _sender.SendAsync(Payload(2, 100), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await idle.WaitAsync(Timeout);
        Assert.Equal(Payload(2, 100), reader.Message.ToArray());
    }

    [Fact]
    public async Task A_close_is_reported_on_either_path()
    {
        using var reader = new WebSocketMessageReader();
        await _sender.SendAsync(Payload(0, 50), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await _sender.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Binary, await reader.ReadAsync(_receiver, 4096, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Equal(WebSocketMessageType.Close, await reader.ReadAsync(_receiver, 4096, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, _receiver.CloseStatus);
    }

    private static byte[] Payload(int seed, int length)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed * 31 + i);
        }

        return bytes;
    }
}
