namespace Realtime.Server.Tests;

public abstract class RoomMembershipTests(HostMode mode)
{
    /// <summary>Against <c>MapRealtime</c>.</summary>
    public sealed class OnEndpoint() : RoomMembershipTests(HostMode.Endpoint);

    /// <summary>Against the dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
    public sealed class OnDenseListener() : RoomMembershipTests(HostMode.Dense);

    [Fact]
    public async Task A_client_that_has_seen_Connect_receives_every_broadcast_sent_after_it()
    {
        // The join and the welcome are one step on the server: no window in which a connected client misses a broadcast.
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode);
        var client = new Client.Client(host.Url);
        for (int i = 0; i < 50; i++)
        {
            await using Connection connection = await client.ConnectAsync("room-" + i).DefaultTimeout();
            var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.On(ConnectionEvents.Message, m => received.TrySetResult(m.GetData<int>()));
            Assert.NotNull(host.Server.GetConnection(connection.Id!));
            host.Server.Broadcast("room-" + i, i, "n");
            Assert.Equal(i, await received.Task.DefaultTimeout($"broadcast {i}"));
        }
    }

    [Fact]
    public async Task Rooms_and_counts_return_to_zero_when_everyone_leaves()
    {
        await using KestrelRealtimeHost host = await KestrelRealtimeHost.StartAsync(mode);
        var left = new Nito.AsyncEx.AsyncCountdownEvent(6);
        host.Server.On(Server.ServerEvents.Disconnect, _ => left.Signal());
        var client = new Client.Client(host.Url);
        var connections = new List<Connection>();
        foreach (string room in new[] { "a", "a", "b", "b", "b", "c" })
        {
            connections.Add(await client.ConnectAsync(room).DefaultTimeout());
        }

        Assert.Equal(6, host.Server.ConnectionCount);
        Assert.Equal(new[] { "a", "b", "c" }, host.Server.Rooms.Order());
        Assert.Equal(3, host.Server.GetConnections("b").Count);
        foreach (Connection connection in connections)
        {
            await connection.DisposeAsync();
        }

        await left.WaitAsync().DefaultTimeout("every disconnect hook");
        Assert.Equal(0, host.Server.ConnectionCount);
        Assert.Empty(host.Server.Rooms);
        Assert.Empty(host.Server.GetConnections("b"));
    }
}
