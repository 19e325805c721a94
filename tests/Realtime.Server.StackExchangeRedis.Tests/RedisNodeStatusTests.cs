using Microsoft.Extensions.DependencyInjection;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>The status page's cluster view: each node publishes its counts with its heartbeat, and every node reads them all back.</summary>
public sealed class RedisNodeStatusTests : RedisClusterTest
{
    [RedisFact]
    public async Task Every_node_sees_each_live_node_with_its_connections_rooms_and_last_heartbeat_and_a_stopped_node_goes()
    {
        TimeSpan heartbeat = TimeSpan.FromMilliseconds(200);
        RealtimeTestHost a = await StartNodeAsync("status", heartbeat: heartbeat, nodeTimeout: TimeSpan.FromSeconds(3));
        RealtimeTestHost b = await StartNodeAsync("status", heartbeat: heartbeat, nodeTimeout: TimeSpan.FromSeconds(3));
        await ConnectAsync(a, "room1");
        await ConnectAsync(a, "room2");
        await ConnectAsync(b, "room1");
        string nodeA = a.Services.GetRequiredService<RealtimeBackplane>().NodeId;
        string nodeB = b.Services.GetRequiredService<RealtimeBackplane>().NodeId;

        string expected = string.Join(" ", new[] { $"{nodeA}:2/2", $"{nodeB}:1/1" }.Order(StringComparer.Ordinal));
        IReadOnlyList<RealtimeNodeStatus> nodes = [];
        await WaitUntilAsync(async () =>
        {
            nodes = await b.Services.GetRequiredService<RealtimeBackplane>().GetNodesAsync(CancellationToken.None);
            return Counts(nodes) == expected;
        }, "both nodes' counts in Redis");

        var redisNow = new DateTimeOffset(DateTime.SpecifyKind(await Inspector.GetServer(Redis.Configuration).TimeAsync(), DateTimeKind.Utc));
        foreach (RealtimeNodeStatus node in nodes)
        {
            Assert.InRange(node.LastHeartbeat!.Value, redisNow.AddSeconds(-3), redisNow.AddSeconds(1));
        }

        // A graceful stop leaves the cluster at once, its counts with it.
        await b.StopAsync();
        await WaitUntilAsync(async () => Counts(await a.Services.GetRequiredService<RealtimeBackplane>().GetNodesAsync(CancellationToken.None)) == $"{nodeA}:2/2", "the stopped node to go");
        Assert.False(await Inspector.GetDatabase().HashExistsAsync("status:nodes:counts", nodeB));
    }

    private static string Counts(IReadOnlyList<RealtimeNodeStatus> nodes)
        => string.Join(" ", nodes.Select(n => $"{n.NodeId}:{n.Connections}/{n.Rooms}").Order(StringComparer.Ordinal));
}
