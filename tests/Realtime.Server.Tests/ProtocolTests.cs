using System.Net;
using System.Net.WebSockets;
using System.Text;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>protocol.md against real Kestrel with a raw socket: handshake rules and every malformed frame.</summary>
public abstract class ProtocolTests(HostMode mode) : IAsyncLifetime
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : ProtocolTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : ProtocolTests(HostMode.Dense);

    private readonly LogSink _logs = new();
    private KestrelRealtimeHost _host = null!;
    private readonly WatchedList<(string ConnectionId, string Event)> _hookOrder = new();

    public async Task InitializeAsync()
    {
        _host = await KestrelRealtimeHost.StartAsync(mode, o => o.MaxMessageSize = 4096, s => s
            .On(ServerEvents.Connect, ctx => _hookOrder.Add((ctx.Connection.Id, "connect")))
            .On(ServerEvents.Message, ctx =>
            {
                _hookOrder.Add((ctx.Connection.Id, "message:" + ctx.Type));
                ctx.Connection.Broadcast(ctx.Message);
            }), logs: _logs);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _logs.AssertNoUnexpectedErrors();
    }

    [Fact]
    public async Task Offered_subprotocol_is_selected_and_no_offer_gets_no_header()
    {
        await using RawProtocolClient offered = await RawProtocolClient.ConnectAsync(_host.Url);
        Assert.Equal("realtime.v1", offered.Socket.SubProtocol);
        await using RawProtocolClient none = await RawProtocolClient.ConnectAsync(_host.Url, subProtocols: []);
        Assert.Null(none.Socket.SubProtocol);
        await none.HelloAsync();
        Assert.StartsWith("{\"t\":\"welcome\"", await none.ReceiveAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_subprotocols_only_and_plain_http_requests_get_400_with_a_one_line_text()
    {
        var ex = await Assert.ThrowsAsync<WebSocketException>(() => RawProtocolClient.ConnectAsync(_host.Url, subProtocols: ["realtime.v2"]));
        Assert.Contains("400", ex.Message, StringComparison.Ordinal);

        using var http = new HttpClient();
        string httpUrl = _host.Url.Replace("ws://", "http://", StringComparison.Ordinal);
        foreach (HttpMethod method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete })
        {
            using HttpResponseMessage response = await http.SendAsync(new HttpRequestMessage(method, httpUrl + "?roomId=room1")).DefaultTimeout();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
            string body = await response.Content.ReadAsStringAsync();
            Assert.Single(body.TrimEnd('\n').Split('\n'));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("roomId=")]
    [InlineData("roomId=a&roomId=b")]
    [InlineData("room=room1")]
    [InlineData("roomId=bad%00room")]
    public async Task Invalid_room_ids_are_rejected_after_hello_with_4002(string query)
    {
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url, query);
        await raw.HelloAsync();
        Assert.Equal("{\"t\":\"reject\",\"message\":\"Invalid roomId\"}", await raw.ReceiveAsync());
        Assert.Equal(CloseCodes.HandshakeRejected, await raw.ReceiveCloseAsync());
    }

    [Fact]
    public async Task A_room_id_of_128_percent_encoded_characters_is_accepted()
    {
        string room = string.Concat(Enumerable.Repeat("é", 128));
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url, "roomId=" + Uri.EscapeDataString(room));
        await raw.HelloAsync();
        string welcome = await raw.ReceiveStartingWithAsync("{\"t\":\"welcome\"");
        Assert.Equal(room, FrameReader.ReadText(Encoding.UTF8.GetBytes(welcome)).RoomId);
    }

    [Fact]
    public async Task Welcome_carries_a_fresh_id_and_the_server_settings()
    {
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url);
        await raw.HelloAsync("{\"token\":\"valid-token\"}");
        Frame welcome = FrameReader.ReadText(Encoding.UTF8.GetBytes((await raw.ReceiveAsync())!));
        Assert.Equal(FrameKind.Welcome, welcome.Kind);
        Assert.True(ConnectionId.IsValid(welcome.ConnectionId));
        Assert.Equal("room1", welcome.RoomId);
        Assert.Equal(25000, welcome.PingInterval);
        Assert.Equal(20000, welcome.PingTimeout);
        Assert.Equal(4096, welcome.MaxMessageSize);
    }

    [Fact]
    public async Task Messages_sent_right_after_hello_are_processed_after_the_connect_hooks()
    {
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url);
        await raw.HelloAsync();
        await raw.SendTextAsync("{\"t\":\"msg\",\"type\":\"early\"}");

        // The early message was relayed to nobody (the room had no one else): wait for its hook, so that the next member cannot get it.
        await _hookOrder.WaitForAsync(e => e.Any(x => x.Event == "message:early"), "the early message's hook");
        await using RawProtocolClient other = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);
        await raw.SendTextAsync("{\"t\":\"msg\",\"type\":\"ping-through\"}");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"ping-through\"}", await other.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        // Order is per connection: the sender's early message came after its own connect hooks.
        IReadOnlyList<(string ConnectionId, string Event)> order = _hookOrder.Items;
        string sender = order.First(e => e.Event == "message:early").ConnectionId;
        Assert.Equal(new[] { "connect", "message:early", "message:ping-through" }, order.Where(e => e.ConnectionId == sender).Select(e => e.Event));
    }

    [Fact]
    public async Task Relay_forwards_type_and_data_only_never_the_senders_extra_fields()
    {
        await using RawProtocolClient sender = await Welcomed();
        await using RawProtocolClient receiver = await Welcomed();
        await sender.SendTextAsync("{\"t\":\"msg\",\"from\":\"XBtqzsRMPh7MaVvaAAAB\",\"data\":{\"a\":\"\\u00e9\"},\"type\":\"doc\"}");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"doc\",\"data\":{\"a\":\"\\u00e9\"}}", await receiver.ReceiveStartingWithAsync("{\"t\":\"msg\""));
    }

    public static TheoryData<string, byte[], WebSocketMessageType, int> HostileFrames => new()
    {
        { "invalid UTF-8", [(byte)'{', 0xFF, (byte)'}'], WebSocketMessageType.Text, CloseCodes.InvalidPayload },
        { "invalid JSON", "{\"t\":"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.InvalidPayload },
        { "not an object", "[]"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.InvalidPayload },
        { "t not a string", "{\"t\":1}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.InvalidPayload },
        { "an escaped lone surrogate in a field name", "{\"\\ud800\":1,\"t\":\"msg\"}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.InvalidPayload },
        { "binary type not UTF-8", [0x01, 2, 0xC3, 0x28, 9], WebSocketMessageType.Binary, CloseCodes.InvalidPayload },
        { "type of the wrong type", "{\"t\":\"msg\",\"type\":1}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.InvalidPayload },
        { "unknown kind", "{\"t\":\"join\"}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.ProtocolError },
        { "server-only kind", "{\"t\":\"ping\"}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.ProtocolError },

        // A server-only kind is refused for what it is, however it is written (its fields are not a client's to get right).
        { "server-only welcome without its fields", "{\"t\":\"welcome\"}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.ProtocolError },
        { "server-only reject with a bad message", "{\"t\":\"reject\",\"message\":1}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.ProtocolError },
        { "server-only error", "{\"t\":\"error\",\"message\":\"x\"}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.ProtocolError },
        { "a second hello", "{\"t\":\"hello\"}"u8.ToArray(), WebSocketMessageType.Text, CloseCodes.ProtocolError },
        { "binary with a bad first byte", [0x02, 0, 1], WebSocketMessageType.Binary, CloseCodes.ProtocolError },
        { "binary with a truncated header", [0x01, 9, 1], WebSocketMessageType.Binary, CloseCodes.ProtocolError },
        { "text over MaxMessageSize", Encoding.UTF8.GetBytes("{\"t\":\"msg\",\"data\":\"" + new string('x', 4100) + "\"}"), WebSocketMessageType.Text, CloseCodes.MessageTooBig },
        { "binary over MaxMessageSize", new byte[4097], WebSocketMessageType.Binary, CloseCodes.MessageTooBig },
    };

    [Theory]
    [MemberData(nameof(HostileFrames))]
    public async Task A_malformed_frame_closes_only_that_connection_with_its_code(string why, byte[] frame, WebSocketMessageType type, int code)
    {
        await using RawProtocolClient bystander = await Welcomed();
        await using RawProtocolClient offender = await Welcomed();
        await offender.SendAsync(frame, type);
        int closed = await offender.ReceiveCloseOrResetAsync();
        Assert.True(closed == code, $"{why}: expected {code}, got {(closed == RawProtocolClient.ConnectionReset ? "a connection reset" : closed)}");

        // The server and the other connection keep working.
        await using RawProtocolClient newcomer = await Welcomed();
        await newcomer.SendTextAsync("{\"t\":\"msg\",\"type\":\"still-here\"}");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"still-here\"}", await bystander.ReceiveStartingWithAsync("{\"t\":\"msg\""));
    }

    [Fact]
    public async Task A_message_of_exactly_MaxMessageSize_is_legal()
    {
        await using RawProtocolClient sender = await Welcomed();
        await using RawProtocolClient receiver = await Welcomed();
        byte[] frame = new byte[4096];
        frame[0] = 0x01;
        await sender.SendAsync(frame, WebSocketMessageType.Binary);
        Assert.Equal(Convert.ToBase64String(frame), await receiver.ReceiveAsync());
    }

    [Theory]
    [InlineData("{\"t\":\"msg\"}")]
    [InlineData("{\"t\":\"pong\"}")]
    public async Task A_frame_before_hello_is_a_protocol_error(string frame)
    {
        await using RawProtocolClient raw = await RawProtocolClient.ConnectAsync(_host.Url);
        await raw.SendTextAsync(frame);
        Assert.Equal(CloseCodes.ProtocolError, await raw.ReceiveCloseAsync());
    }

    [Fact]
    public async Task No_hello_within_the_handshake_timeout_closes_with_4008_and_hanging_middleware_too()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode, o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(300), s => s
            .Use(ServerEvents.Connect, async (ctx, next) =>
            {
                if (ctx.Connection.Query.ContainsKey("hang"))
                {
                    await Task.Delay(Timeout.Infinite, ctx.HttpContext.RequestAborted); // sleep-ok: connect middleware that hangs
                }

                await next();
            }));
        await using RawProtocolClient silent = await RawProtocolClient.ConnectAsync(host.Url);
        Assert.Equal(CloseCodes.HandshakeTimeout, await silent.ReceiveCloseAsync());
        await using RawProtocolClient hanging = await RawProtocolClient.ConnectAsync(host.Url, "roomId=room1&hang=1");
        await hanging.HelloAsync();
        Assert.Equal(CloseCodes.HandshakeTimeout, await hanging.ReceiveCloseAsync());
        Assert.Equal(0, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task A_pong_with_no_ping_outstanding_is_ignored_and_a_client_close_is_answered_with_1000()
    {
        await using RawProtocolClient raw = await Welcomed();
        for (int i = 0; i < 50; i++)
        {
            await raw.SendTextAsync("{\"t\":\"pong\"}");
        }

        await raw.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).DefaultTimeout();
        Assert.Equal(CloseCodes.NormalClosure, await raw.ReceiveCloseAsync());
    }

    private Task<RawProtocolClient> Welcomed() => RawProtocolClient.ConnectWelcomedAsync(_host.Url);
}
