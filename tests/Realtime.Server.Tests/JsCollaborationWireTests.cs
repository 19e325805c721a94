using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>
/// The compatibility endpoint (<c>MapJsCollaboration</c>) on the wire, against real Kestrel, packet by packet: the Engine.IO
/// handshake and heartbeat, every Socket.IO packet kind, the <c>m</c> event and its compression, refusals, hostile input, and rooms
/// shared with protocol v1 clients.
/// </summary>
public class JsCollaborationWireTests : IAsyncLifetime
{
    private const int MaxMessageSize = 4096;
    private readonly LogSink _logs = new();
    private KestrelRealtimeHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await KestrelRealtimeHost.StartAsync(o =>
        {
            o.MaxMessageSize = MaxMessageSize;
            o.PingInterval = TimeSpan.FromMilliseconds(300);
            o.PingTimeout = TimeSpan.FromMilliseconds(600);
        }, s => s
            .Use(ServerEvents.Connect, async (ctx, next) =>
            {
                if (ctx.Connection.Auth.ValueKind == JsonValueKind.Object && ctx.Connection.Auth.TryGetProperty("token", out JsonElement token) && token.GetString() == "bad")
                {
                    ctx.Reject("Invalid token");
                    return;
                }

                await next();
            })
            .Use(ServerEvents.Message, async (ctx, next) =>
            {
                if (ctx.Type == "forbidden")
                {
                    ctx.Reject("Not allowed: forbidden");
                    return;
                }

                await next();
            })
            .On(ServerEvents.Message, ctx =>
            {
                if (ctx.Type == "close-me")
                {
                    ctx.Connection.Close();
                    return;
                }

                ctx.Connection.Broadcast(ctx.Message);
            }), logs: _logs);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private string Url => _host.CollaborationUrl;

    [Fact]
    public async Task The_handshake_opens_with_the_servers_heartbeat_and_size_and_accepts_connect_with_the_clients_id_query_and_auth()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAsync(Url, $"id={id}&roomId=room%201x&user=ann");
        Assert.Equal(id, client.Open.GetProperty("sid").GetString());
        Assert.Equal(0, client.Open.GetProperty("upgrades").GetArrayLength());
        Assert.Equal(300, client.Open.GetProperty("pingInterval").GetInt32());
        Assert.Equal(600, client.Open.GetProperty("pingTimeout").GetInt32());
        Assert.Equal(MaxMessageSize, client.Open.GetProperty("maxPayload").GetInt32());
        Assert.Null(client.Socket.SubProtocol);

        Assert.Equal($"40{{\"sid\":\"{id}\"}}", await client.ConnectNamespaceAsync("{\"token\":\"t-1\",\"n\":[1,2]}"));
        ServerConnection connection = await _host.Connections.WaitAsync(id);
        Assert.Equal(id, connection.Id);
        Assert.Equal("room 1x", connection.RoomId);
        Assert.Equal("ann", connection.Query["user"]);
        Assert.Equal("4", connection.Query["EIO"]);
        Assert.Equal("websocket", connection.Query["transport"]);
        Assert.Equal(id, connection.Query["id"]);
        Assert.Equal("t-1", connection.Auth.GetProperty("token").GetString());
        Assert.Equal("[1,2]", connection.Auth.GetProperty("n").GetRawText());
        Assert.Same(connection, _host.Server.GetConnection(id));
    }

    [Fact]
    public async Task Connect_without_a_payload_has_no_auth()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAcceptedAsync(Url, id);
        ServerConnection connection = await _host.Connections.WaitAsync(id);
        Assert.Equal(JsonValueKind.Undefined, connection.Auth.ValueKind);
    }

    [Theory]
    [InlineData("EIO=4&transport=polling&id=a", 0, "Transport unknown")]
    [InlineData("EIO=4&id=a", 0, "Transport unknown")]
    [InlineData("EIO=3&transport=websocket", 5, "Unsupported protocol version")]
    [InlineData("transport=websocket", 5, "Unsupported protocol version")]
    [InlineData("EIO=4&transport=websocket&sid=abc", 1, "Session ID unknown")]
    [InlineData("EIO=4&transport=websocket&id=01234567890123456789&roomId=r", 3, "Bad request")] // a plain GET, no upgrade
    public async Task Other_transports_versions_sessions_and_plain_requests_get_the_engine_io_error_response(string query, int code, string message)
    {
        using var http = new HttpClient();
        string httpUrl = Url.Replace("ws://", "http://", StringComparison.Ordinal);
        using HttpResponseMessage response = await http.GetAsync(httpUrl + "?" + query).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(message, body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_websocket_upgrade_for_another_version_is_refused_with_400_not_accepted()
    {
        using var socket = new ClientWebSocket();
        var ex = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri(Url + "?EIO=3&transport=websocket&id=01234567890123456789&roomId=r"), CancellationToken.None).DefaultTimeout());
        Assert.Contains("400", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("roomId=room1", "Invalid connect: missing id in query parameters.")]
    [InlineData("id=0123456789012345678&roomId=room1", "Invalid connect: id must be 20 characters of 0-9, A-Z and a-z.")]
    [InlineData("id=0123456789-123456789&roomId=room1", "Invalid connect: id must be 20 characters of 0-9, A-Z and a-z.")]
    [InlineData("id=01234567890123456789", "Invalid connect: missing roomId in query parameters.")]
    [InlineData("id=01234567890123456789&roomId=", "Invalid connect: invalid roomId in query parameters.")]
    public async Task A_missing_or_invalid_id_or_room_is_a_connect_error_with_the_originals_message_then_a_close(string query, string message)
    {
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAsync(Url, query);
        string answer = await client.ConnectNamespaceAsync();
        Assert.Equal("44" + JsonSerializer.Serialize(new { message }), answer);
        Assert.Equal(CloseCodes.HandshakeRejected, await client.ReceiveCloseAsync());
        Assert.Equal(0, _host.Server.ConnectionCount);
    }

    [Fact]
    public async Task Connect_middleware_rejection_is_a_connect_error_with_its_message()
    {
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAsync(Url, $"id={SocketIoTestClient.NewId()}&roomId=room1");
        Assert.Equal("44{\"message\":\"Invalid token\"}", await client.ConnectNamespaceAsync("{\"token\":\"bad\"}"));
        Assert.Equal(CloseCodes.HandshakeRejected, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Connect_to_another_namespace_is_answered_invalid_namespace_and_the_connection_may_still_connect_to_the_main_one()
    {
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAsync(Url, $"id={SocketIoTestClient.NewId()}&roomId=room1");
        await client.SendTextAsync("40/admin,");
        Assert.Equal("44/admin,{\"message\":\"Invalid namespace\"}", await client.ReceiveAsync());
        Assert.StartsWith("40{\"sid\":", await client.ConnectNamespaceAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_pings_every_interval_and_a_client_that_answers_stays_while_one_that_does_not_is_closed()
    {
        await using SocketIoTestClient answering = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient silent = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        silent.AnswerPings = false;
        Task<(string? Type, string DataJson, bool Compressed)> received = answering.ReceiveMessageAsync(); // reads, and answers pings, meanwhile
        Assert.Equal("2", await silent.ReceiveAsync());
        Assert.Equal(CloseCodes.PingTimeout, await silent.ReceiveCloseAsync());

        // The answering client went through pings meanwhile and still exchanges messages.
        await using SocketIoTestClient peer = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await peer.SendMessageAsync("t", "1");
        Assert.Equal(("t", "1", false), await received);
        Assert.True(answering.PingsAnswered >= 2, $"{answering.PingsAnswered} pings answered");
    }

    [Fact]
    public async Task A_client_ping_and_probe_are_answered()
    {
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await client.SendTextAsync("2probe");
        Assert.Equal("3probe", await client.ReceiveStartingWithAsync("3"));
        await client.SendTextAsync("6"); // noop: ignored
        await client.SendTextAsync("2");
        Assert.Equal("3", await client.ReceiveStartingWithAsync("3"));
    }

    [Fact]
    public async Task Messages_go_both_ways_with_type_and_exact_data_and_a_null_type()
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await a.SendMessageAsync("my-presence", "{\"userId\":\"user1\",\"active\":true}");
        Assert.Equal("42[\"m\",[\"my-presence\",{\"userId\":\"user1\",\"active\":true},false]]", await b.ReceiveStartingWithAsync("42"));
        await b.SendTextAsync("42[\"m\",[null,\"Hello, server!\",false]]");
        Assert.Equal((null, "\"Hello, server!\"", false), await a.ReceiveMessageAsync());
    }

    [Fact]
    public async Task Data_of_127_bytes_travels_as_it_is_and_of_128_compressed_both_ways_and_incompressible_data_as_it_is()
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using RawProtocolClient v1 = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);

        string json127 = "\"" + new string('a', 125) + "\"";
        string json128 = "\"" + new string('a', 126) + "\"";
        await a.SendMessageAsync("t", json127);
        Assert.Equal(("t", json127, false), await b.ReceiveMessageAsync());
        Assert.Equal($"{{\"t\":\"msg\",\"type\":\"t\",\"data\":{json127}}}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));

        // Sent compressed by the client: the v1 member gets the JSON, the compatibility member gets it compressed again.
        await a.SendMessageAsync("t", json128);
        Assert.Equal(("t", json128, true), await b.ReceiveMessageAsync());
        Assert.Equal($"{{\"t\":\"msg\",\"type\":\"t\",\"data\":{json128}}}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));

        // From v1: the rule is applied by the server.
        await v1.SendTextAsync($"{{\"t\":\"msg\",\"type\":\"v\",\"data\":{json128}}}");
        Assert.Equal(("v", json128, true), await b.ReceiveMessageAsync());

        // 150 bytes of random text: gzip's header, trailer and code tables make it longer, so it travels as it is.
        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_+*/=()[]{}<>@#$%&|~^";
        string noise = "\"" + System.Security.Cryptography.RandomNumberGenerator.GetString(Alphabet, 148) + "\"";
        await a.SendMessageAsync("n", noise);
        Assert.Equal(("n", noise, false), await b.ReceiveMessageAsync());

        // Random base64 text does shrink under gzip, though not under gzip + base64: the original compares the gzip's bytes.
        string base64Noise = "\"" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(600)) + "\"";
        await a.SendMessageAsync("n", base64Noise);
        Assert.Equal(("n", base64Noise, true), await b.ReceiveMessageAsync());
    }

    [Fact]
    public async Task A_type_of_any_length_and_the_empty_type_are_relayed_unchanged_between_compatibility_clients()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, id);
        string longType = string.Concat(Enumerable.Repeat("type-", 60)); // 300 characters, as the original relays them
        string json128 = "\"" + new string('a', 126) + "\"";

        await a.SendMessageAsync(longType, "{\"n\":1}");
        await a.SendMessageAsync("", "2");
        await a.SendMessageAsync(null, "3");
        await a.SendMessageAsync(longType + "é", json128);
        Assert.Equal((longType, "{\"n\":1}", false), await b.ReceiveMessageAsync());
        Assert.Equal(("", "2", false), await b.ReceiveMessageAsync());
        Assert.Equal((null, "3", false), await b.ReceiveMessageAsync());
        Assert.Equal((longType + "é", json128, true), await b.ReceiveMessageAsync());

        // Binary data, with the same types.
        foreach (string type in new[] { longType, "" })
        {
            await a.SendTextAsync($"451-[\"m\",[\"{type}\",{{\"_placeholder\":true,\"num\":0}},false]]");
            await a.SendAsync([1, 2], WebSocketMessageType.Binary);
            Assert.Equal($"451-[\"m\",[\"{type}\",{{\"_placeholder\":true,\"num\":0}},false]]", await b.ReceiveStartingWithAsync("45"));
            Assert.Equal("binary:" + Convert.ToBase64String(new byte[] { 1, 2 }), await b.ReceiveAsync());
        }

        // The server's own sends keep them too.
        Assert.True(await _host.Server.SendAsync(id, 4, longType));
        Assert.Equal((longType, "4", false), await b.ReceiveMessageAsync());
        Assert.True(await _host.Server.SendAsync(id, 5, ""));
        Assert.Equal(("", "5", false), await b.ReceiveMessageAsync());
    }

    [Fact]
    public async Task The_empty_type_crosses_between_the_two_protocols_as_empty_and_what_protocol_v1_cannot_carry_is_refused_where_it_is_sent()
    {
        await using SocketIoTestClient compat = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using RawProtocolClient v1 = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);

        await compat.SendMessageAsync("", "{\"x\":1}");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"\",\"data\":{\"x\":1}}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        await compat.SendMessageAsync(null, "2");
        Assert.Equal("{\"t\":\"msg\",\"data\":2}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));
        await v1.SendTextAsync("{\"t\":\"msg\",\"type\":\"\",\"data\":3}");
        Assert.Equal(("", "3", false), await compat.ReceiveMessageAsync());
        await v1.SendTextAsync("{\"t\":\"msg\",\"data\":4}");
        Assert.Equal((null, "4", false), await compat.ReceiveMessageAsync());

        // A v1 frame cannot carry a type over 255 bytes, nor "" with binary data: sending either to a v1 connection throws.
        string v1Id = v1.ConnectionId!;
        ArgumentException tooLong = await Assert.ThrowsAsync<ArgumentException>(() => _host.Server.SendAsync(v1Id, 1, new string('t', 256)));
        Assert.Contains("255", tooLong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => _host.Server.SendAsync(v1Id, new byte[] { 1 }, ""));
        Assert.True(await _host.Server.SendAsync(v1Id, 5, "after"));
        Assert.Equal("{\"t\":\"msg\",\"type\":\"after\",\"data\":5}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));
    }

    [Fact]
    public async Task Message_middleware_rejection_is_a_message_error_and_the_connection_stays()
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await a.SendMessageAsync("forbidden", "1");
        Assert.Equal("42[\"message_error\",\"Not allowed: forbidden\"]", await a.ReceiveStartingWithAsync("42"));
        await a.SendMessageAsync("ok", "2");
        Assert.Equal(("ok", "2", false), await b.ReceiveMessageAsync());
    }

    [Theory]
    [InlineData("42[\"m\",[\"t\",\"not base64!\",true]]")]
    [InlineData("42[\"m\",[\"t\",1]]")]
    [InlineData("42[\"m\",[\"t\",1,false],2]")]
    [InlineData("42[\"m\",[5,1,false]]")]
    [InlineData("42[\"m\",[\"t\",{\"a\":]]")]
    [InlineData("42[\"m\",[\"\\ud800\",1,false]]")]
    [InlineData("42{\"m\":1}")]
    public async Task A_message_the_server_cannot_decode_is_a_message_error_and_the_connection_stays(string packet)
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await a.SendTextAsync(packet);
        Assert.StartsWith("42[\"message_error\",\"Invalid message: ", await a.ReceiveStartingWithAsync("42"), StringComparison.Ordinal);
        await a.SendMessageAsync("after", "3");
        Assert.Equal(("after", "3", false), await b.ReceiveMessageAsync());
    }

    [Fact]
    public async Task A_gzip_bomb_is_refused_with_a_message_error_and_the_connection_stays()
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());

        // 2 MB of JSON in under 4 KB on the wire: within the message size limit until inflated (the codec tests show it never is).
        byte[] bomb = SocketIoTestClient.Gzip(Encoding.UTF8.GetBytes("\"" + new string('z', 2_000_000) + "\""));
        string packet = $"42[\"m\",[\"t\",\"{Convert.ToBase64String(bomb)}\",true]]";
        Assert.True(packet.Length < MaxMessageSize, $"the bomb is {packet.Length} bytes on the wire");
        await a.SendTextAsync(packet);
        string answer = await a.ReceiveStartingWithAsync("42");
        Assert.StartsWith("42[\"message_error\",\"Invalid message: ", answer, StringComparison.Ordinal);
        Assert.Contains($"limit of {MaxMessageSize} bytes", answer, StringComparison.Ordinal);
        await a.SendMessageAsync("after", "4");
        Assert.Equal(("after", "4", false), await b.ReceiveMessageAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("9")]
    [InlineData("0")]
    [InlineData("49")]
    [InlineData("45x-[\"m\"]")]
    [InlineData("44{\"message\":\"x\"}")]
    [InlineData("40")]
    public async Task A_malformed_or_out_of_place_packet_closes_that_connection_with_1002_and_others_keep_working(string packet)
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient c = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await a.SendTextAsync(packet);
        Assert.Equal(CloseCodes.ProtocolError, await a.ReceiveCloseAsync());
        await b.SendMessageAsync("still", "5");
        Assert.Equal(("still", "5", false), await c.ReceiveMessageAsync());
    }

    [Fact]
    public async Task An_event_before_connect_and_a_stray_binary_message_close_with_1002()
    {
        await using SocketIoTestClient early = await SocketIoTestClient.ConnectAsync(Url, $"id={SocketIoTestClient.NewId()}&roomId=room1");
        await early.SendMessageAsync("t", "1");
        Assert.Equal(CloseCodes.ProtocolError, await early.ReceiveCloseAsync());

        await using SocketIoTestClient stray = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await stray.SendAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal(CloseCodes.ProtocolError, await stray.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Other_events_and_acknowledgements_are_ignored()
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using SocketIoTestClient b = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await a.SendTextAsync("42[\"licence\",{\"status\":1}]");
        await a.SendTextAsync("4312[\"ok\"]");
        await a.SendTextAsync("451-[\"other\",{\"_placeholder\":true,\"num\":0}]");
        await a.SendAsync([9, 9], WebSocketMessageType.Binary);
        await a.SendMessageAsync("next", "6");
        Assert.Equal(("next", "6", false), await b.ReceiveMessageAsync());
    }

    [Fact]
    public async Task Binary_data_goes_both_ways_as_a_binary_event_with_one_attachment_and_nested_binary_is_refused()
    {
        await using SocketIoTestClient a = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await using RawProtocolClient v1 = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);

        await a.SendTextAsync("451-[\"m\",[\"file\",{\"_placeholder\":true,\"num\":0},false]]");
        await a.SendAsync([1, 2, 3, 255], WebSocketMessageType.Binary);
        string received = await v1.ReceiveStartingWithAsync("AQ"); // a v1 binary frame: [0x01][type length][type][payload]
        Assert.Equal(new byte[] { 1, 4, (byte)'f', (byte)'i', (byte)'l', (byte)'e', 1, 2, 3, 255 }, Convert.FromBase64String(received));

        await v1.SendAsync([1, 2, (byte)'b', (byte)'n', 7, 8, 9], WebSocketMessageType.Binary);
        Assert.Equal("451-[\"m\",[\"bn\",{\"_placeholder\":true,\"num\":0},false]]", await a.ReceiveStartingWithAsync("45"));
        Assert.Equal("binary:" + Convert.ToBase64String(new byte[] { 7, 8, 9 }), await a.ReceiveAsync());

        await a.SendTextAsync("451-[\"m\",[\"file\",{\"blob\":{\"_placeholder\":true,\"num\":0}},false]]");
        await a.SendAsync([4], WebSocketMessageType.Binary);
        Assert.StartsWith("42[\"message_error\",\"Invalid message: Binary data", await a.ReceiveStartingWithAsync("42"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Close_by_the_server_is_a_disconnect_packet_then_4000_and_a_shutdown_is_only_1001()
    {
        await using SocketIoTestClient closed = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await closed.SendMessageAsync("close-me", "null");
        Assert.Equal("41", await closed.ReceiveStartingWithAsync("4"));
        Assert.Equal(CloseCodes.ServerDisconnect, await closed.ReceiveCloseAsync());

        await using SocketIoTestClient stopped = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        Task<int> close = stopped.ReceiveCloseAsync();
        await _host.StopAsync();
        Assert.Equal(CloseCodes.GoingAway, await close.DefaultTimeout());
    }

    [Fact]
    public async Task A_client_disconnect_packet_ends_the_connection_as_a_client_disconnect()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient client = await SocketIoTestClient.ConnectAcceptedAsync(Url, id);
        await _host.Connections.WaitAsync(id);
        await client.SendTextAsync("41");
        Assert.Equal(DisconnectReason.ClientDisconnect, await _host.Connections.WaitForDisconnectAsync(id));
    }

    [Fact]
    public async Task A_second_connection_with_a_live_id_replaces_the_first_which_gets_a_server_disconnect()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient stale = await SocketIoTestClient.ConnectAcceptedAsync(Url, id);
        ServerConnection first = await _host.Connections.WaitAsync(id);
        await using SocketIoTestClient fresh = await SocketIoTestClient.ConnectAcceptedAsync(Url, id);

        Assert.Equal("41", await stale.ReceiveStartingWithAsync("4"));
        Assert.Equal(CloseCodes.ServerDisconnect, await stale.ReceiveCloseAsync());
        Assert.Equal(DisconnectReason.ServerDisconnect, await _host.Connections.WaitForDisconnectAsync(id));

        ServerConnection second = _host.Server.GetConnection(id)!;
        Assert.NotSame(first, second);
        Assert.True(second.Connected);
        Assert.Equal(1, _host.Server.ConnectionCount);
        Assert.Equal([id], await _host.Server.GetConnectionIdsAsync("room1"));

        await using SocketIoTestClient peer = await SocketIoTestClient.ConnectAcceptedAsync(Url, SocketIoTestClient.NewId());
        await peer.SendMessageAsync("to-fresh", "7");
        Assert.Equal(("to-fresh", "7", false), await fresh.ReceiveMessageAsync());
    }

    [Fact]
    public async Task A_room_mixes_both_protocols_and_the_push_api_reaches_a_compatibility_connection_by_id()
    {
        string id = SocketIoTestClient.NewId();
        await using SocketIoTestClient compat = await SocketIoTestClient.ConnectAcceptedAsync(Url, id);
        await using RawProtocolClient v1 = await RawProtocolClient.ConnectWelcomedAsync(_host.Url);

        await v1.SendTextAsync("{\"t\":\"msg\",\"type\":\"doc\",\"data\":{\"op\":[1,\"x\"]}}");
        Assert.Equal(("doc", "{\"op\":[1,\"x\"]}", false), await compat.ReceiveMessageAsync());
        await compat.SendMessageAsync("cursor", "{\"x\":3}");
        Assert.Equal("{\"t\":\"msg\",\"type\":\"cursor\",\"data\":{\"x\":3}}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));

        Assert.True(await _host.Server.SendAsync(id, new { pushed = true }, "notice"));
        Assert.Equal(("notice", "{\"pushed\":true}", false), await compat.ReceiveMessageAsync());
        _host.Server.Broadcast("room1", 42, "answer");
        Assert.Equal(("answer", "42", false), await compat.ReceiveMessageAsync());
        Assert.Equal("{\"t\":\"msg\",\"type\":\"answer\",\"data\":42}", await v1.ReceiveStartingWithAsync("{\"t\":\"msg\""));
    }
}
