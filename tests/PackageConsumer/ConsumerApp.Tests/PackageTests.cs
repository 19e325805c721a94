using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Realtime;
using Realtime.Client;
using Realtime.Server;
using Realtime.Testing;
using Xunit;

namespace ConsumerApp.Tests;

/// <summary>What a team gets from the packages alone: the README's app, tested the ways the docs describe.</summary>
public class PackageTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Two_clients_exchange_a_message_through_the_app_in_a_WebApplicationFactory()
    {
        await using var factory = new WebApplicationFactory<Program>();
        TestServer server = factory.Server;
        var client = new Client("ws://localhost/realtime", new ClientOptions
        {
            WebSocketFactory = async (uri, protocols, ct) =>
            {
                WebSocketClient ws = server.CreateWebSocketClient();
                foreach (string protocol in protocols)
                {
                    ws.SubProtocols.Add(protocol);
                }

                return await ws.ConnectAsync(uri, ct);
            },
        });
        // Connect hooks run after welcome: a hook of the test's own says when both members are in the room.
        int inRoom = 0;
        var bothInRoom = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        factory.Services.GetRequiredService<RealtimeServer>().On(ServerEvents.Connect, _ =>
        {
            if (Interlocked.Increment(ref inRoom) == 2)
            {
                bothInRoom.TrySetResult();
            }
        });
        var auth = new ConnectOptions { Auth = new { token = "valid-token" } };
        await using Connection ann = await client.ConnectAsync("room1", auth).WaitAsync(Deadline);
        await using Connection bob = await client.ConnectAsync("room1", auth).WaitAsync(Deadline);
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.On(ConnectionEvents.Message, m => received.TrySetResult(m));

        await bothInRoom.Task.WaitAsync(Deadline);
        ann.Send(new { userId = "user1", active = true }, "my-presence");
        Message message = await received.Task.WaitAsync(Deadline);
        Assert.Equal("my-presence", message.Type);
        Assert.True(message.Data.GetProperty("active").GetBoolean());

        var refused = await Assert.ThrowsAsync<RealtimeConnectException>(() => client.ConnectAsync("room1").WaitAsync(Deadline));
        Assert.True(refused.IsRejection);
        Assert.Equal("Authentication failed", refused.Message);
    }

    [Fact]
    public async Task The_fault_proxy_of_Realtime_Testing_resets_a_client_that_then_reconnects()
    {
        await using RealtimeTestHost host = await RealtimeTestHost.StartAsync().WaitAsync(Deadline);
        await using FaultProxy proxy = await FaultProxy.StartAsync(host.Url).WaitAsync(Deadline);
        var client = new Client(proxy.Url.ToString(), new ClientOptions { ReconnectionDelay = TimeSpan.FromMilliseconds(50) });
        await using Connection connection = await client.ConnectAsync("room1").WaitAsync(Deadline);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reasons = new List<DisconnectReason>();
        connection.On(ConnectionEvents.Disconnect, reasons.Add);
        connection.On(ConnectionEvents.Reconnect, _ => reconnected.TrySetResult());

        proxy.ResetConnections();
        await reconnected.Task.WaitAsync(Deadline);
        Assert.Equal(new[] { DisconnectReason.TransportClose }, reasons);
    }

    [Theory]
    [InlineData("Realtime.Server")]
    [InlineData("Realtime.Client")]
    [InlineData("Realtime.Shared")]
    [InlineData("Realtime.Testing")]
    public void Each_package_ships_its_XML_docs(string assembly)
        => Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, assembly + ".xml")), $"{assembly}.xml is not in the package");
}
