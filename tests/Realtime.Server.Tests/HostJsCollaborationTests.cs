using Microsoft.AspNetCore.TestHost;
using Realtime.Client;

namespace Realtime.Server.Tests;

/// <summary>The runnable host serves the original framework's clients at /collaboration/, with the relay, in the rooms of /realtime.</summary>
public class HostJsCollaborationTests
{
    [Fact]
    public async Task The_host_relays_between_a_compatibility_client_and_a_realtime_client_in_one_room()
    {
        await using var app = new RealtimeAppFactory();
        Client.Client client = app.CreateRealtimeClient();
        await using Connection v1 = await client.ConnectAsync("room1").DefaultTimeout();
        var v1Events = new ConnectionRecorder(v1);

        WebSocketClient sockets = app.Server.CreateWebSocketClient();
        string id = SocketIoTestClient.NewId();
        System.Net.WebSockets.WebSocket socket = await sockets.ConnectAsync(
            new Uri($"ws://localhost/collaboration/?EIO=4&transport=websocket&id={id}&roomId=room1"), CancellationToken.None).DefaultTimeout();
        await using SocketIoTestClient compat = await SocketIoTestClient.OverAsync(socket);
        Assert.StartsWith("40{", await compat.ConnectNamespaceAsync(), StringComparison.Ordinal);
        await app.Connections.WaitAsync(id);

        await compat.SendMessageAsync("my-presence", "{\"userId\":\"user1\",\"active\":true}");
        await v1Events.WaitForEventAsync("message:my-presence");
        Message received = Assert.Single(v1Events.Messages);
        Assert.Equal("{\"userId\":\"user1\",\"active\":true}", received.Data.GetRawText());

        v1.Send(new { content = "New paragraph" }, "my-document");
        Assert.Equal(("my-document", "{\"content\":\"New paragraph\"}", false), await compat.ReceiveMessageAsync());
    }
}
