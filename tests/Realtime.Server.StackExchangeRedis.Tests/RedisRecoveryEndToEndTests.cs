using System.Text;
using Realtime.Protocol;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>
/// Recovery across two nodes on one real redis-server, as a client speaks it on the wire (docs/protocol.md §3.1): a client that drops
/// on one node and comes back on the other with its resume token and last position receives everything the room broadcast meanwhile,
/// in order, once, and is told it recovered; so does a client whose node was killed.
/// </summary>
public sealed class RedisRecoveryEndToEndTests : RedisClusterTest
{
    [RedisFact]
    public async Task A_client_that_drops_on_node_a_while_200_broadcasts_are_made_and_reconnects_to_node_b_receives_all_of_them_in_order_once_and_is_told_it_recovered()
    {
        RealtimeTestHost a = await StartNodeAsync("recover", configureOptions: o => o.Recovery.Enabled = true);
        RealtimeTestHost b = await StartNodeAsync("recover", configureOptions: o => o.Recovery.Enabled = true);

        // The room's only member, on A: it takes positions, and receives some broadcasts before it drops.
        RawProtocolClient first = await RawProtocolClient.ConnectAsync(a.Url.ToString(), "roomId=doc");
        await first.SendTextAsync("""{"t":"hello","recover":true}""");
        Frame welcome = Read(await first.ReceiveStartingWithAsync("{\"t\":\"welcome\""));
        string token = welcome.ResumeToken ?? throw new InvalidOperationException("no resume token in a room with history");
        string lastPosition = welcome.Position ?? throw new InvalidOperationException("no position in a room with history");
        Assert.Null(welcome.Recovered);
        for (int i = 0; i < 10; i++)
        {
            await a.Server.BroadcastAsync("doc", i, "before").DefaultTimeout();
        }

        for (int i = 0; i < 10; i++)
        {
            Frame message = await NextMessageAsync(first);
            Assert.Equal(("before", i), (message.Message.Type, message.Message.Data.GetInt32()));
            lastPosition = message.Position ?? throw new InvalidOperationException("a broadcast without a position");
        }

        // It drops (no close handshake): A is left without members in the room. Both nodes broadcast meanwhile; halfway through,
        // the client reconnects to B with its token and last position, while the rest is still being broadcast.
        await first.DisposeAsync();
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task broadcasting = Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                await (i % 2 == 0 ? a : b).Server.BroadcastAsync("doc", i, "during").DefaultTimeout();
                if (i == 99)
                {
                    halfway.SetResult();
                }
            }
        });
        await halfway.Task.DefaultTimeout("the first 100 broadcasts");

        await using RawProtocolClient second = await RawProtocolClient.ConnectAsync(b.Url.ToString(), "roomId=doc");
        await second.SendTextAsync($$"""{"t":"hello","recover":true,"resume":"{{token}}","pos":"{{lastPosition}}"}""");
        Frame again = Read(await second.ReceiveStartingWithAsync("{\"t\":\"welcome\""));
        Assert.True(again.Recovered);
        Assert.Equal(lastPosition, again.Position);
        Assert.NotEqual(welcome.ConnectionId, again.ConnectionId);
        Assert.NotNull(again.ResumeToken);

        await broadcasting.DefaultTimeout();
        await b.Server.BroadcastAsync("doc", 0, "after").DefaultTimeout();
        var received = new List<Frame>();
        while (true)
        {
            Frame message = await NextMessageAsync(second);
            if (message.Message.Type == "after")
            {
                break;
            }

            received.Add(message);
        }

        // All 200, in order, once, nothing else, each at the next position of the room's one epoch.
        Assert.All(received, m => Assert.Equal("during", m.Message.Type));
        Assert.Equal(Enumerable.Range(0, 200), received.Select(m => m.Message.Data.GetInt32()));
        Assert.True(RoomPosition.TryParse(lastPosition, out RoomPosition from));
        Assert.Equal(Enumerable.Range(1, 200).Select(n => from.Sequence + n), received.Select(m => Position(m).Sequence));
        Assert.All(received, m => Assert.Equal(from.Epoch, Position(m).Epoch));
    }

    [RedisFact]
    public async Task A_client_whose_node_was_killed_recovers_on_another_node_once_the_dead_node_is_swept()
    {
        // A node timeout of 3 s, as in the presence test: a live node whose heartbeat a loaded machine delays is not swept.
        TimeSpan heartbeat = TimeSpan.FromMilliseconds(200), nodeTimeout = TimeSpan.FromSeconds(3);
        RealtimeTestHost survivor = await StartNodeAsync("killed", heartbeat: heartbeat, nodeTimeout: nodeTimeout, configureOptions: o => o.Recovery.Enabled = true);
        await using HostProcess doomed = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Realtime__Redis__Configuration"] = Redis.Configuration,
            ["Realtime__Redis__Prefix"] = "killed",
            ["Realtime__Redis__HeartbeatInterval"] = "00:00:00.200",
            ["Realtime__Redis__NodeTimeout"] = "00:00:03",
            ["Realtime__Recovery__Enabled"] = "true",
        });

        RawProtocolClient first = await RawProtocolClient.ConnectAsync(doomed.Url, "roomId=doc");
        await first.SendTextAsync("""{"t":"hello","recover":true}""");
        Frame welcome = Read(await first.ReceiveStartingWithAsync("{\"t\":\"welcome\""));
        string token = welcome.ResumeToken ?? throw new InvalidOperationException("no resume token in a room with history");
        string lastPosition = welcome.Position ?? throw new InvalidOperationException("no position in a room with history");
        for (int i = 0; i < 10; i++)
        {
            await survivor.Server.BroadcastAsync("doc", i, "before").DefaultTimeout();
            lastPosition = (await NextMessageAsync(first)).Position!;
        }

        // The node dies without a word: it never records that its connection ended. The survivor's heartbeat sweeps it, and with
        // it the room's last member: the room's sequence and log stay, and the member may be resumed.
        await doomed.KillAsync();
        await first.DisposeAsync();
        for (int i = 0; i < 50; i++)
        {
            await survivor.Server.BroadcastAsync("doc", i, "during").DefaultTimeout();
        }

        await WaitUntilAsync(async () => !await Inspector.GetDatabase().KeyExistsAsync("killed:r:doc:m"), "the dead node's member to be swept");

        await using RawProtocolClient second = await RawProtocolClient.ConnectAsync(survivor.Url.ToString(), "roomId=doc");
        await second.SendTextAsync($$"""{"t":"hello","recover":true,"resume":"{{token}}","pos":"{{lastPosition}}"}""");
        Frame again = Read(await second.ReceiveStartingWithAsync("{\"t\":\"welcome\""));
        Assert.True(again.Recovered);
        await survivor.Server.BroadcastAsync("doc", 0, "after").DefaultTimeout();
        var received = new List<Frame>();
        for (Frame message = await NextMessageAsync(second); message.Message.Type != "after"; message = await NextMessageAsync(second))
        {
            received.Add(message);
        }

        Assert.Equal(Enumerable.Range(0, 50), received.Select(m => m.Message.Data.GetInt32()));
        Assert.All(received, m => Assert.Equal("during", m.Message.Type));
    }

    private static Frame Read(string text) => FrameReader.ReadText(Encoding.UTF8.GetBytes(text));

    private static RoomPosition Position(Frame message)
        => RoomPosition.TryParse(message.Position, out RoomPosition position) ? position : throw new InvalidOperationException($"not a position: {message.Position}");

    /// <summary>The next application message (pings and other protocol frames skipped).</summary>
    private static async Task<Frame> NextMessageAsync(RawProtocolClient client)
    {
        while (true)
        {
            string text = await client.ReceiveAsync() ?? throw new InvalidOperationException($"The server closed ({client.CloseStatus}).");
            Frame frame = Read(text);
            if (frame.Kind == FrameKind.Message)
            {
                return frame;
            }
        }
    }
}
