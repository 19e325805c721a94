using System.Collections.Concurrent;
using System.Text.Json;
using Realtime.Server;

namespace Realtime.Server.Tests;

/// <summary>Every behaviour of the original client Connection page, against the relay host.</summary>
public class SeedConnectionTests
{
    [Fact]
    public async Task Each_client_sees_Connect_with_a_20_character_id_equal_to_the_server_side_id()
    {
        await using var app = new RealtimeAppFactory();
        var serverIds = new ConcurrentQueue<string>();
        app.RealtimeServer.On(ServerEvents.Connect, ctx => serverIds.Enqueue(ctx.Connection.Id));
        Client.Client client = app.CreateRealtimeClient();

        await using Connection ann = client.Connect("room1");
        var annEvents = new ConnectionRecorder(ann);
        await using Connection bob = client.Connect("room1");
        var bobEvents = new ConnectionRecorder(bob);
        await annEvents.WaitForEventAsync("connect");
        await bobEvents.WaitForEventAsync("connect");

        string annId = Assert.Single(annEvents.ConnectIds)!;
        string bobId = Assert.Single(bobEvents.ConnectIds)!;
        await app.Connections.WaitAsync(annId);
        await app.Connections.WaitAsync(bobId);
        Assert.Equal(20, annId.Length);
        Assert.Equal(20, bobId.Length);
        Assert.NotEqual(annId, bobId);
        Assert.Equal(annId, app.RealtimeServer.GetConnection(annId)!.Id);
        Assert.Equal(new[] { annId, bobId }.Order(), serverIds.Order());
        Assert.Equal("room1", ann.RoomId);
        Assert.True(ann.Connected);
        Assert.Equal(2, app.RealtimeServer.GetConnections("room1").Count);
    }

    [Fact]
    public async Task A_typed_message_reaches_the_other_member_with_its_data_and_type_and_not_the_sender()
    {
        await using var app = new RealtimeAppFactory();
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var annEvents = new ConnectionRecorder(ann);
        var bobEvents = new ConnectionRecorder(bob);

        ann.Send(new { userId = "user1", active = true }, "my-presence");
        await bobEvents.WaitForEventAsync("message:my-presence");
        Message received = Assert.Single(bobEvents.Messages);
        Assert.Equal("my-presence", received.Type);
        Assert.Equal("{\"userId\":\"user1\",\"active\":true}", received.Data.GetRawText());

        // Per-connection order: had the relay echoed ann's message to ann, it would arrive before bob's reply.
        bob.Send("ack", "reply");
        await annEvents.WaitForEventAsync("message:reply");
        Assert.Equal("reply", Assert.Single(annEvents.Messages).Type);
    }

    [Fact]
    public async Task Messages_of_every_shape_arrive_as_sent()
    {
        await using var app = new RealtimeAppFactory();
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var bobEvents = new ConnectionRecorder(bob);

        ann.Send("Hello, server!");
        ann.Send("Hello, server!", "document");
        ann.Send(new { content = "New paragraph" }, "my-document");
        ann.Send(new byte[] { 1, 2, 3 }, "crdt");
        ann.Send(JsonDocument.Parse("[1,\"two\"]").RootElement);
        await bobEvents.WaitForCountAsync("message:", 5);

        Message[] m = bobEvents.Messages.ToArray();
        Assert.Equal((null, "Hello, server!"), (m[0].Type, m[0].GetData<string>()));
        Assert.Equal(("document", "Hello, server!"), (m[1].Type, m[1].GetData<string>()));
        Assert.Equal("New paragraph", m[2].Data.GetProperty("content").GetString());
        Assert.True(m[3].IsBinary);
        Assert.Equal("crdt", m[3].Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, m[3].Bytes.ToArray());
        Assert.Equal("[1,\"two\"]", m[4].Data.GetRawText());
    }

    [Fact]
    public async Task The_empty_type_arrives_as_empty_and_no_type_as_null()
    {
        await using var app = new RealtimeAppFactory();
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var bobEvents = new ConnectionRecorder(bob);

        ann.Send(1, "");
        ann.Send(2);
        ann.Send(3, "x");
        await bobEvents.WaitForCountAsync("message:", 3);

        Message[] m = bobEvents.Messages.ToArray();
        Assert.Equal(("", 1), (m[0].Type, m[0].GetData<int>()));
        Assert.Equal((null, 2), (m[1].Type, m[1].GetData<int>()));
        Assert.Equal(("x", 3), (m[2].Type, m[2].GetData<int>()));
    }

    [Fact]
    public async Task Inside_the_Disconnect_handler_Id_is_null_and_Connected_false()
    {
        await using var app = new RealtimeAppFactory();
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(ann);

        (await app.Connections.WaitAsync(ann.Id!)).Close();
        await events.WaitForEventAsync("disconnect:ServerDisconnect");
        Assert.Equal((null, false), Assert.Single(events.StateInDisconnect));
        Assert.Null(ann.Id);
        Assert.False(ann.Connected);
    }

    [Fact]
    public async Task Close_raises_Disconnect_ClientDisconnect_and_never_reconnects()
    {
        await using var app = new RealtimeAppFactory();
        var serverReason = new TaskCompletionSource<DisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lastWords = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.RealtimeServer.On(ServerEvents.Disconnect, ctx => serverReason.TrySetResult(ctx.Reason));
        app.RealtimeServer.On(ServerEvents.Message, ctx => lastWords.TrySetResult(ctx.Type));
        Connection ann = await app.CreateRealtimeClient().ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(ann);

        ann.Send("last words", "bye");
        await ann.CloseAsync().DefaultTimeout();
        await events.WaitForEventAsync("disconnect:ClientDisconnect");
        Assert.Equal(DisconnectReason.ClientDisconnect, await serverReason.Task.DefaultTimeout());

        // What was queued before Close is sent before the close frame, and the server processes it.
        Assert.Equal("bye", await lastWords.Task.DefaultTimeout("the message sent before Close"));

        // After the whole dispatch (DisposeAsync waits for the last handler) nothing but the one Disconnect was raised.
        await ann.DisposeAsync();
        Assert.Equal(new[] { "disconnect:ClientDisconnect" }, events.Events);
        Assert.Throws<InvalidOperationException>(() => ann.Send("too late"));
    }

    [Fact]
    public async Task Server_Close_raises_ServerDisconnect_and_never_reconnects()
    {
        await using var app = new RealtimeAppFactory();
        await using Connection ann = await app.CreateRealtimeClient().ConnectAsync("room1").DefaultTimeout();
        var events = new ConnectionRecorder(ann);

        (await app.Connections.WaitAsync(ann.Id!)).Close();
        await events.WaitForEventAsync("disconnect:ServerDisconnect");

        // Before any Close of ours: the run loop must end by itself, in Closed. Were 4000 reconnectable, it would be
        // waiting out its backoff instead and then reconnect, and this wait would time out.
        await ann.RunCompletion.DefaultTimeout("the run loop to end by itself");
        Assert.Equal(Client.Internal.ConnectionState.Closed, ann.State);
        Assert.Equal(new[] { "disconnect:ServerDisconnect" }, events.Events);
    }

    [Fact]
    public async Task Once_fires_once_and_Off_stops_a_handler()
    {
        await using var app = new RealtimeAppFactory();
        Client.Client client = app.CreateRealtimeClient();
        await using Connection ann = await client.ConnectAsync("room1").DefaultTimeout();
        await using Connection bob = await client.ConnectAsync("room1").DefaultTimeout();
        var bobEvents = new ConnectionRecorder(bob);
        int once = 0, off = 0;
        bob.Once(ConnectionEvents.Message, _ => once++);
        Action<Message> offHandler = _ => off++;
        bob.On(ConnectionEvents.Message, offHandler);
        bob.Off(ConnectionEvents.Message, offHandler);

        ann.Send(1, "a");
        ann.Send(2, "b");
        await bobEvents.WaitForCountAsync("message:", 2);
        Assert.Equal(1, once);
        Assert.Equal(0, off);
    }
}
