using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Client;
using Realtime.TestSupport;

namespace Realtime.Server.Tests;

/// <summary>
/// The dense listener (<c>ListenOptions.UseRealtime</c>) on a real Kestrel socket beside an ordinary <c>MapRealtime</c> endpoint:
/// one <see cref="RealtimeServer"/> behind both, the same frames, and HTTP refusals of its own for what is not an upgrade.
/// </summary>
public sealed class DenseListenerTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private int _densePort;
    private int _endpointPort;
    private readonly List<ConnectContextSeen> _connects = [];
    private readonly List<WeakReference> _requests = [];

    /// <summary>Short, for the slow-head test; every other connection here completes its handshake in milliseconds.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(3);

    private sealed record ConnectContextSeen(string? User, string? Header, IPAddress? Remote);

    public async Task InitializeAsync()
    {
        _densePort = FreePort();
        _endpointPort = FreePort();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRealtime(o => o.HandshakeTimeout = HandshakeTimeout);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, _endpointPort);
            k.Listen(IPAddress.Loopback, _densePort, l => l.UseRealtime("/realtime", server => server.Use(ServerEvents.Connect, async (ctx, next) =>
            {
                lock (_connects)
                {
                    _connects.Add(new(ctx.HttpContext.Request.Query["user"], ctx.HttpContext.Request.Headers["X-Test"], ctx.HttpContext.Connection.RemoteIpAddress));
                    _requests.Add(new WeakReference(ctx.HttpContext));
                }

                await next();
            })));
        });
        _app = builder.Build();
        _app.MapRealtime("/realtime", server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
        await _app.StartAsync().DefaultTimeout("the app to start");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_client_on_the_dense_listener_and_one_on_the_endpoint_share_the_server_s_rooms_and_hooks()
    {
        await using Connection dense = await new Client.Client($"ws://127.0.0.1:{_densePort}/realtime").ConnectAsync("room1", new ConnectOptions { Query = new Dictionary<string, string> { ["user"] = "ann" } }).DefaultTimeout();
        await using Connection endpoint = await new Client.Client($"ws://127.0.0.1:{_endpointPort}/realtime").ConnectAsync("room1").DefaultTimeout();
        var onEndpoint = new ConnectionRecorder(endpoint);
        var onDense = new ConnectionRecorder(dense);

        await dense.SendAsync("from dense", "chat").DefaultTimeout();
        await onEndpoint.WaitForEventAsync("message:chat");
        await endpoint.SendAsync("from endpoint", "chat").DefaultTimeout();
        await onDense.WaitForEventAsync("message:chat");

        Assert.Equal("from dense", onEndpoint.Messages.Single(m => m.Type == "chat").Data.GetString());
        Assert.Equal("from endpoint", onDense.Messages.Single(m => m.Type == "chat").Data.GetString());
        Assert.Equal(2, _app.Services.GetRequiredService<RealtimeServer>().GetConnections("room1").Count);
        ConnectContextSeen seen = Assert.Single(_connects, c => c.User == "ann");
        Assert.Equal(IPAddress.Loopback, seen.Remote);
    }

    [Fact]
    public async Task Once_connected_a_dense_connection_holds_nothing_of_its_http_request()
    {
        await using Connection dense = await new Client.Client($"ws://127.0.0.1:{_densePort}/realtime").ConnectAsync("room1").DefaultTimeout();
        await using Connection endpoint = await new Client.Client($"ws://127.0.0.1:{_endpointPort}/realtime").ConnectAsync("room1").DefaultTimeout();
        var onEndpoint = new ConnectionRecorder(endpoint);
        await dense.SendAsync("ping", "chat").DefaultTimeout();
        await onEndpoint.WaitForEventAsync("message:chat"); // its connect hooks are done (messages wait for them), and it has been served since
        WeakReference request;
        lock (_connects)
        {
            request = _requests[0]; // the dense one: the endpoint's connect middleware is not this listener's
        }

        for (int i = 0; i < 10 && request.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(request.IsAlive, "the connection's HttpContext is still reachable after its handshake");
        Assert.True(dense.Connected);
    }

    [Fact]
    public async Task Shutdown_does_not_wait_for_a_connection_that_never_sent_its_head()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, _densePort).DefaultTimeout();
        await using (Connection dense = await new Client.Client($"ws://127.0.0.1:{_densePort}/realtime").ConnectAsync("room1").DefaultTimeout())
        {
            // The silent socket is being served by now (a later connection got its welcome); the head read must end at shutdown,
            // not at the handshake timeout.
            await _app.StopAsync().WaitAsync(HandshakeTimeout / 2); // a bound on a hang, not a measurement
        }

        byte[] buffer = new byte[16];
        Assert.Equal(0, await silent.ReceiveAsync(buffer, SocketFlags.None).DefaultTimeout("the silent connection to close"));
    }

    [Fact]
    public async Task A_head_that_does_not_arrive_within_the_handshake_timeout_is_closed_without_an_answer()
    {
        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await slow.ConnectAsync(IPAddress.Loopback, _densePort).DefaultTimeout();
        await slow.SendAsync(Encoding.ASCII.GetBytes("GET /realtime?roomId=r HTTP/1.1\r\nHost: x\r\n")); // and never the rest
        var clock = System.Diagnostics.Stopwatch.StartNew();
        byte[] buffer = new byte[256];
        Assert.Equal(0, await slow.ReceiveAsync(buffer, SocketFlags.None).DefaultTimeout("the slow connection to be closed"));
        Assert.True(clock.Elapsed >= HandshakeTimeout / 2, $"closed after {clock.Elapsed}: before its handshake timeout of {HandshakeTimeout}");

        await using Connection after = await new Client.Client($"ws://127.0.0.1:{_densePort}/realtime").ConnectAsync("room1").DefaultTimeout();
        Assert.True(after.Connected);
    }

    [Fact]
    public async Task Connect_middleware_sees_the_request_headers_on_the_dense_listener()
    {
        string head = $"GET /realtime?roomId=r&user=bob HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: realtime.v1\r\nX-Test: hello\r\n\r\n";
        (string response, Socket socket) = await SendAsync(head, keepOpen: true);
        using (socket)
        {
            Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", response, StringComparison.Ordinal);
            Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", response, StringComparison.Ordinal);
            Assert.Contains("Sec-WebSocket-Protocol: realtime.v1\r\n", response, StringComparison.Ordinal);

            // hello, masked, as a client must send it: {"t":"hello"}
            byte[] hello = Encoding.UTF8.GetBytes("{\"t\":\"hello\"}");
            byte[] frame = [0x81, (byte)(0x80 | hello.Length), 1, 2, 3, 4, .. hello.Select((b, i) => (byte)(b ^ (i % 4 + 1)))];
            await socket.SendAsync(frame);
            byte[] buffer = new byte[1024];
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None).DefaultTimeout("the welcome");
            Assert.Contains("\"welcome\"", Encoding.UTF8.GetString(buffer, 0, read), StringComparison.Ordinal);
            Assert.Contains(_connects, c => c.User == "bob" && c.Header == "hello");
        }
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        { "another path", "GET /other?roomId=r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 404 " },
        { "a plain GET", "GET /realtime?roomId=r HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 " },
        { "a bare LF", "GET /realtime HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400 " },
        { "HTTP/1.0", "GET /realtime HTTP/1.0\r\n\r\n", "HTTP/1.1 505 " },
        { "another WebSocket version", "GET /realtime?roomId=r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", "HTTP/1.1 426 " },
        { "a key of 15 bytes", "GET /realtime?roomId=r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 400 " },
        { "a POST upgrade", "POST /realtime?roomId=r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 400 " },
        { "a missing Host", "GET /realtime HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 400 " },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task What_is_not_an_acceptable_upgrade_gets_an_http_error_and_the_connection_closes(string what, string head, string status)
    {
        (string response, Socket socket) = await SendAsync(head, keepOpen: false);
        socket.Dispose();
        Assert.True(response.StartsWith(status, StringComparison.Ordinal), $"{what}: {response}");
        Assert.Contains("Connection: close\r\n", response, StringComparison.Ordinal);
        if (status.Contains("426", StringComparison.Ordinal))
        {
            Assert.Contains("Sec-WebSocket-Version: 13\r\n", response, StringComparison.Ordinal); // the version to retry with
        }

        // The server and every other connection keep working.
        await using Connection after = await new Client.Client($"ws://127.0.0.1:{_densePort}/realtime").ConnectAsync("room1").DefaultTimeout();
        Assert.True(after.Connected);
    }

    /// <summary>Sends raw bytes to the dense listener; returns what arrived until the server closed (or, with <paramref name="keepOpen"/>, the response head).</summary>
    private async Task<(string Response, Socket Socket)> SendAsync(string head, bool keepOpen)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _densePort).DefaultTimeout();
        await socket.SendAsync(Encoding.Latin1.GetBytes(head));
        var response = new StringBuilder();
        byte[] buffer = new byte[4096];
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None).DefaultTimeout("the response");
            if (read == 0)
            {
                break;
            }

            response.Append(Encoding.Latin1.GetString(buffer, 0, read));
            if (keepOpen && response.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        return (response.ToString(), socket);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
