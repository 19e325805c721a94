using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Realtime.Protocol;

namespace Realtime.Server.Tests;

/// <summary>
/// The compatibility protocol on a dense listener (<c>ListenOptions.UseJsCollaboration</c>) on a real Kestrel socket, beside an
/// ordinary HTTP listener with <c>MapRealtime</c> and <c>MapJsCollaboration</c>: the Engine.IO handshake as the endpoint answers it,
/// one <see cref="RealtimeServer"/> and one set of rooms behind all three, and the Engine.IO error responses as raw HTTP/1.1.
/// </summary>
public sealed class DenseJsCollaborationTests : IAsyncLifetime
{
    private const int MaxMessageSize = 4096;
    private WebApplication _app = null!;
    private int _densePort;
    private int _httpPort;
    private readonly List<(string? User, IPAddress? Remote)> _connects = [];

    public async Task InitializeAsync()
    {
        _densePort = FreePort();
        _httpPort = FreePort();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRealtime(o =>
        {
            o.MaxMessageSize = MaxMessageSize;
            o.PingInterval = TimeSpan.FromSeconds(20);
            o.PingTimeout = TimeSpan.FromSeconds(25);
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, _httpPort);
            k.Listen(IPAddress.Loopback, _densePort, l => l.UseJsCollaboration("/collaboration/", server => server.Use(ServerEvents.Connect, async (ctx, next) =>
            {
                lock (_connects)
                {
                    _connects.Add((ctx.HttpContext.Request.Query["user"], ctx.HttpContext.Connection.RemoteIpAddress));
                }

                if (ctx.Connection.Auth.ValueKind == JsonValueKind.Object && ctx.Connection.Auth.TryGetProperty("token", out JsonElement token) && token.GetString() == "bad")
                {
                    ctx.Reject("Invalid token");
                    return;
                }

                await next();
            })));
        });
        _app = builder.Build();
        _app.MapRealtime("/realtime", server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
        _app.MapJsCollaboration("/collaboration/");
        await _app.StartAsync().DefaultTimeout("the app to start");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private string DenseUrl => $"ws://127.0.0.1:{_densePort}/collaboration/";

    [Fact]
    public async Task The_dense_listener_opens_with_the_engine_io_open_packet_and_accepts_connect_with_the_clients_id()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAsync(DenseUrl, $"id={id}&roomId=room%201&user=ann");
        Assert.Equal(id, client.Open.GetProperty("sid").GetString());
        Assert.Equal(0, client.Open.GetProperty("upgrades").GetArrayLength());
        Assert.Equal(20_000, client.Open.GetProperty("pingInterval").GetInt32());
        Assert.Equal(25_000, client.Open.GetProperty("pingTimeout").GetInt32());
        Assert.Equal(MaxMessageSize, client.Open.GetProperty("maxPayload").GetInt32());
        Assert.Null(client.Socket.SubProtocol);

        Assert.Equal($"40{{\"sid\":\"{id}\"}}", await client.ConnectNamespaceAsync("{\"token\":\"t-1\"}"));
        RealtimeServer server = _app.Services.GetRequiredService<RealtimeServer>();
        ServerConnection connection = server.GetConnection(id) ?? throw new InvalidOperationException("The accepted connection is not registered.");
        Assert.Equal("room 1", connection.RoomId);
        Assert.Equal("ann", connection.Query["user"]);
        Assert.Equal("4", connection.Query["EIO"]);
        Assert.Equal("t-1", connection.Auth.GetProperty("token").GetString());
        lock (_connects)
        {
            Assert.Contains(_connects, c => c.User == "ann" && IPAddress.Loopback.Equals(c.Remote)); // connect middleware saw the request
        }
    }

    [Fact]
    public async Task Messages_are_relayed_between_a_dense_compatibility_client_and_endpoint_clients_of_both_protocols_in_one_room()
    {
        await using SocketIoTestClient dense = await SocketIoTestClient.ConnectAcceptedAsync(DenseUrl, SocketIoTestClient.NewId());
        await using SocketIoTestClient compat = await SocketIoTestClient.ConnectAcceptedAsync($"ws://127.0.0.1:{_httpPort}/collaboration/", SocketIoTestClient.NewId());
        await using RawProtocolClient v1 = await RawProtocolClient.ConnectWelcomedAsync($"ws://127.0.0.1:{_httpPort}/realtime");

        await dense.SendMessageAsync("cursor", "{\"x\":3}");
        Assert.Equal(("cursor", "{\"x\":3}", false), await compat.ReceiveMessageAsync());
        Assert.Equal("{\"t\":\"msg\",\"type\":\"cursor\",\"data\":{\"x\":3}}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));

        await v1.SendTextAsync("{\"t\":\"msg\",\"type\":\"doc\",\"data\":{\"op\":[1,\"x\"]}}");
        Assert.Equal(("doc", "{\"op\":[1,\"x\"]}", false), await dense.ReceiveMessageAsync());
        await compat.SendMessageAsync("edit", "\"from the endpoint\"");
        Assert.Equal(("edit", "\"from the endpoint\"", false), await dense.ReceiveMessageAsync());
        Assert.Equal(3, await _app.Services.GetRequiredService<RealtimeServer>().GetRoomConnectionCountAsync("room1").DefaultTimeout());
    }

    [Theory]
    [InlineData("roomId=room1", "Invalid connect: missing id in query parameters.", null)]
    [InlineData("id=01234567890123456789", "Invalid connect: missing roomId in query parameters.", null)]
    [InlineData("id=01234567890123456789&roomId=room1", "Invalid token", "{\"token\":\"bad\"}")]
    public async Task A_refused_handshake_is_a_connect_error_with_its_message_then_4002(string query, string message, string? authJson)
    {
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAsync(DenseUrl, query);
        Assert.Equal("44" + JsonSerializer.Serialize(new { message }), await client.ConnectNamespaceAsync(authJson));
        Assert.Equal(CloseCodes.HandshakeRejected, await client.ReceiveCloseAsync());
    }

    public static TheoryData<string, string, int, string> EngineErrors => new()
    {
        { "a polling transport", "EIO=4&transport=polling&id=a", 0, "Transport unknown" },
        { "a session id", "EIO=4&transport=websocket&sid=abc", 1, "Session ID unknown" },
        { "Engine.IO v3", "EIO=3&transport=websocket&id=01234567890123456789&roomId=r", 5, "Unsupported protocol version" },
    };

    [Theory]
    [MemberData(nameof(EngineErrors))]
    public async Task An_upgrade_the_engine_io_server_would_refuse_gets_its_error_response_and_the_connection_closes(string what, string query, int code, string message)
    {
        string response = await SendAsync($"GET /collaboration/?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        AssertEngineError(what, response, code, message);
    }

    [Fact]
    public async Task A_plain_get_gets_the_engine_io_bad_request_and_another_path_404()
    {
        AssertEngineError("a plain GET", await SendAsync("GET /collaboration/?EIO=4&transport=websocket&id=01234567890123456789&roomId=r HTTP/1.1\r\nHost: x\r\n\r\n"), 3, "Bad request");

        string other = await SendAsync("GET /collaboration?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                       + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 404 ", other, StringComparison.Ordinal);

        // The listener keeps serving.
        await using SocketIoTestClient after = await SocketIoTestClient.ConnectAcceptedAsync(DenseUrl, SocketIoTestClient.NewId());
        Assert.Equal(WebSocketState.Open, after.Socket.State);
    }

    private static void AssertEngineError(string what, string response, int code, string message)
    {
        Assert.True(response.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal), $"{what}: {response}");
        Assert.Contains("Content-Type: application/json\r\n", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", response, StringComparison.Ordinal);
        JsonElement body = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement;
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(message, body.GetProperty("message").GetString());
    }

    /// <summary>Sends raw bytes to the dense listener; returns what arrived until the server closed.</summary>
    private async Task<string> SendAsync(string head)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _densePort).DefaultTimeout();
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        var response = new StringBuilder();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None).DefaultTimeout("the response")) > 0)
        {
            response.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return response.ToString();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
