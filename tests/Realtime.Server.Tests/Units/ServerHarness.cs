using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Realtime.Server;
using Realtime.Server.Internal.Dense;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// A <see cref="RealtimeServer"/> built by <c>AddRealtime</c> on a <see cref="FakeTimeProvider"/>, whose connections run
/// over in-memory pipes: timing rules are tested by advancing the clock, not by waiting for it.
/// </summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<InMemoryClient> _clients = [];

    public ServerHarness(Action<RealtimeOptions>? configure = null, Action<RealtimeServer>? configureServer = null, RealtimeBackplane? backplane = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(Logs));
        if (backplane is not null)
        {
            services.AddSingleton(backplane);
        }

        services.AddRealtime(configure);
        _services = services.BuildServiceProvider();
        Server = _services.GetRequiredService<RealtimeServer>();
        configureServer?.Invoke(Server);
    }

    public FakeTimeProvider Time { get; } = new();

    public LogSink Logs { get; } = new();

    public RealtimeServer Server { get; }

    public IServiceProvider Services => _services;

    /// <summary>Runs a new server connection over an in-memory WebSocket pair; the returned client holds the other end.</summary>
    /// <param name="roomId">The room the connection asks for.</param>
    /// <param name="serverTransport">Wraps the server's end of the transport (a write-gathering stream becomes the send loop's).</param>
    public InMemoryClient Connect(string roomId = "room1", Func<Stream, Stream>? serverTransport = null)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        Stream transport = new DuplexPipeStream(toServer.Reader, toClient.Writer);
        transport = serverTransport?.Invoke(transport) ?? transport;
        WebSocket serverSocket = WebSocket.CreateFromStream(transport,
            new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        WebSocket clientSocket = WebSocket.CreateFromStream(new DuplexPipeStream(toClient.Reader, toServer.Writer),
            new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var upgrade = new UpgradeRequest(null, roomId, ConnectionId: null, new Dictionary<string, string> { ["roomId"] = roomId }, Realtime.RoomId.IsValid(roomId) ? null : "Invalid roomId");
        var connection = new ServerConnection(Server, Server.ProtocolV1, serverSocket, upgrade, new ClaimsPrincipal())
        {
            Writes = transport as Realtime.Server.Internal.IWriteCoalescing,
        };
        var client = new InMemoryClient(connection, clientSocket, connection.RunAsync(new DefaultHttpContext()));
        _clients.Add(client);
        return client;
    }

    /// <summary>Connects and completes the handshake: the client has its <c>welcome</c>.</summary>
    public async Task<InMemoryClient> ConnectWelcomedAsync(string roomId = "room1", Func<Stream, Stream>? serverTransport = null)
    {
        InMemoryClient client = Connect(roomId, serverTransport);
        await client.SendTextAsync("{\"t\":\"hello\"}");
        string? welcome = await client.ReceiveTextAsync();
        Assert.StartsWith("{\"t\":\"welcome\"", welcome, StringComparison.Ordinal);
        return client;
    }

    /// <summary>Advances the fake clock in steps of <paramref name="step"/>, so that the heartbeat timer ticks as it would.</summary>
    public void Advance(TimeSpan total, TimeSpan step)
    {
        for (TimeSpan done = TimeSpan.Zero; done < total; done += step)
        {
            Time.Advance(step);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (InMemoryClient client in _clients)
        {
            client.Socket.Abort();
            client.Connection.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, string.Empty, drain: false);
            Time.Advance(TimeSpan.FromMinutes(1)); // the close timer aborts what is left
            await client.Run.DefaultTimeout("a server connection to end");
        }

        await _services.DisposeAsync();
    }
}

/// <summary>The client end of an in-memory connection: raw frames in and out.</summary>
internal sealed class InMemoryClient(ServerConnection connection, WebSocket socket, Task run)
{
    private readonly byte[] _buffer = new byte[256 * 1024];

    public ServerConnection Connection { get; } = connection;

    public WebSocket Socket { get; } = socket;

    /// <summary>The server connection's whole run (it completes when the connection has ended and its hooks ran).</summary>
    public Task Run { get; } = run;

    public Task SendTextAsync(string text)
        => Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).DefaultTimeout("a send");

    /// <summary>The next message's text, or <see langword="null"/> when the server closed (see <see cref="WebSocket.CloseStatus"/>).</summary>
    public async Task<string?> ReceiveTextAsync()
    {
        int count = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await Socket.ReceiveAsync(new ArraySegment<byte>(_buffer, count, _buffer.Length - count), CancellationToken.None).DefaultTimeout("a frame from the server");
            count += result.Count;
        }
        while (!result.EndOfMessage);
        return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(_buffer, 0, count);
    }

    /// <summary>Reads until the server's close frame; returns its code.</summary>
    public async Task<int> ReceiveCloseAsync()
    {
        while (await ReceiveTextAsync() is not null)
        {
        }

        return (int)Socket.CloseStatus!.Value;
    }
}
