using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
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

    [RedisFact]
    public async Task The_subscriptions_and_nodes_instruments_count_this_nodes_room_channels_and_the_live_nodes()
    {
        TimeSpan heartbeat = TimeSpan.FromMilliseconds(200);
        RealtimeTestHost a = await StartNodeAsync("gauges", heartbeat: heartbeat, nodeTimeout: TimeSpan.FromSeconds(3));
        using var subscriptions = new MetricCollector<long>(a.Services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.backplane.subscriptions");
        using var nodes = new MetricCollector<long>(a.Services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.backplane.nodes");
        RealtimeTestHost b = await StartNodeAsync("gauges", heartbeat: heartbeat, nodeTimeout: TimeSpan.FromSeconds(3));

        await ConnectAsync(b, "room3"); // a node's backplane joins the cluster with its first connection
        ConnectionRecorder one = await ConnectAsync(a, "room1");
        ConnectionRecorder two = await ConnectAsync(a, "room2");
        await ConnectAsync(a, "room2");
        Assert.Equal(2, subscriptions.GetMeasurementSnapshot().Sum(m => m.Value)); // one channel per room with members here
        await WaitUntilAsync(() =>
        {
            nodes.RecordObservableInstruments();
            return Task.FromResult(nodes.LastMeasurement?.Value == 2);
        }, "node a's heartbeat to see both nodes");

        await one.Connection.DisposeAsync();
        await two.Connection.DisposeAsync(); // room2 keeps a member: its channel stays
        await WaitUntilAsync(() => Task.FromResult(subscriptions.GetMeasurementSnapshot().Sum(m => m.Value) == 1), "room1's channel to go");
        await b.StopAsync();
        await WaitUntilAsync(() =>
        {
            nodes.RecordObservableInstruments();
            return Task.FromResult(nodes.LastMeasurement?.Value == 1);
        }, "node a's heartbeat to see node b gone");
        Assert.Equal(1, subscriptions.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    private static string Counts(IReadOnlyList<RealtimeNodeStatus> nodes)
        => string.Join(" ", nodes.Select(n => $"{n.NodeId}:{n.Connections}/{n.Rooms}").Order(StringComparer.Ordinal));
}
