using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Realtime.Client;
using Realtime.Testing;
using Realtime.TestSupport;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>What the Redis backplane promises beyond the specification, against a real redis-server: prefixes, interest, cost, failing fast.</summary>
public sealed class RedisBackplaneTests : RedisClusterTest
{
    [RedisFact]
    public async Task Apps_with_different_prefixes_on_one_redis_never_see_each_others_rooms_and_room_names_are_literal()
    {
        const string room = "a*b{c}:d?";
        RealtimeTestHost chat = await StartNodeAsync("chat");
        RealtimeTestHost docs = await StartNodeAsync("docs");
        ConnectionRecorder chatMember = await ConnectAsync(chat, room);
        ConnectionRecorder docsMember = await ConnectAsync(docs, room);
        ConnectionRecorder otherRoom = await ConnectAsync(chat, "a-b{c}:d?");

        await chat.Server.BroadcastAsync(room, "for chat", "t").DefaultTimeout();
        await docs.Server.BroadcastAsync(room, "for docs", "t").DefaultTimeout();
        await chatMember.WaitForEventAsync("message:t");
        await docsMember.WaitForEventAsync("message:t");

        Assert.Equal("\"for chat\"", Assert.Single(chatMember.Messages).Data.GetRawText());
        Assert.Equal("\"for docs\"", Assert.Single(docsMember.Messages).Data.GetRawText());
        Assert.Empty(otherRoom.Messages);
        Assert.Equal([room], (await chat.Server.GetRoomsAsync().DefaultTimeout()).Where(r => r == room));
        Assert.Equal(1, await docs.Server.GetConnectionCountAsync().DefaultTimeout());
        Assert.Equal(2, await chat.Server.GetConnectionCountAsync().DefaultTimeout());
    }

    [RedisFact]
    public async Task A_broadcast_is_one_publish_whatever_the_members_and_nodes_and_a_node_subscribes_only_while_it_has_members()
    {
        RealtimeTestHost a = await StartNodeAsync("cost");
        RealtimeTestHost b = await StartNodeAsync("cost");
        RealtimeTestHost idle = await StartNodeAsync("cost");
        ConnectionRecorder[] members = [await ConnectAsync(a, "big"), await ConnectAsync(a, "big"), await ConnectAsync(b, "big"), await ConnectAsync(b, "big")];
        Assert.Equal(2, await SubscribersAsync("cost:r:big"));

        long before = await PublishCountAsync();
        for (int i = 0; i < 10; i++)
        {
            await a.Server.BroadcastAsync("big", i, "n").DefaultTimeout();
        }

        foreach (ConnectionRecorder member in members)
        {
            await member.WaitForCountAsync("message:n", 10);
        }

        Assert.Equal(10, await PublishCountAsync() - before);
        Assert.Equal(0, idle.Server.ConnectionCount);

        foreach (ConnectionRecorder member in members[2..])
        {
            await member.Connection.DisposeAsync();
        }

        await WaitUntilAsync(async () => await SubscribersAsync("cost:r:big") == 1, "node b to unsubscribe after its last member left");
    }

    [RedisFact]
    public async Task With_redis_gone_BroadcastAsync_fails_fast_with_a_typed_error_and_the_server_keeps_serving_its_members()
    {
        RealtimeTestHost node = await StartNodeAsync("down", publishTimeout: TimeSpan.FromSeconds(1));
        ConnectionRecorder member = await ConnectAsync(node, "room1");
        await Redis.DisposeAsync();

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RedisBackplaneException>(() => node.Server.BroadcastAsync("room1", 1, "t").DefaultTimeout());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"failed after {clock.Elapsed}");
        Assert.Contains("Redis", ex.Message, StringComparison.Ordinal);
        Assert.True(member.Connection.Connected);
        Redis = null!; // disposed
    }

    [RedisFact]
    public async Task A_killed_node_s_members_leave_the_cluster_membership_within_the_node_timeout_and_a_stopped_node_s_at_once()
    {
        var liveness = new Dictionary<string, string>
        {
            ["Realtime__Redis__Configuration"] = Redis.Configuration,
            ["Realtime__Redis__Prefix"] = "live",
            ["Realtime__Redis__HeartbeatInterval"] = "00:00:00.200",
            ["Realtime__Redis__NodeTimeout"] = "00:00:01",
        };
        RealtimeTestHost survivor = await StartNodeAsync("live", heartbeat: TimeSpan.FromMilliseconds(200), nodeTimeout: TimeSpan.FromSeconds(1));
        RealtimeTestHost stopped = await StartNodeAsync("live", heartbeat: TimeSpan.FromMilliseconds(200), nodeTimeout: TimeSpan.FromSeconds(1));
        await using HostProcess doomed = await HostProcess.StartAsync(liveness);
        await ConnectAsync(survivor, "room1");
        await ConnectAsync(stopped, "room1");
        var client = new Client.Client(doomed.Url);
        await using Connection onDoomed = await client.ConnectAsync("room1").DefaultTimeout("a member on the child node");
        await using Connection alsoOnDoomed = await client.ConnectAsync("room2").DefaultTimeout("a second member on the child node");
        Assert.Equal(4, await survivor.Server.GetConnectionCountAsync().DefaultTimeout());
        Assert.Equal(3, await survivor.Server.GetRoomConnectionCountAsync("room1").DefaultTimeout());

        // A graceful stop removes the node's members before it returns.
        await stopped.StopAsync();
        Assert.Equal(3, await survivor.Server.GetConnectionCountAsync().DefaultTimeout());

        // A killed node says nothing: the survivor's heartbeat removes its members once it has been silent for the node timeout.
        var clock = Stopwatch.StartNew();
        await doomed.KillAsync();
        await WaitUntilAsync(async () => await survivor.Server.GetConnectionCountAsync() == 1, "the killed node's members to leave");
        TimeSpan took = clock.Elapsed;
        Assert.True(took < TimeSpan.FromSeconds(3), $"removed after {took} (node timeout 1 s, heartbeat 200 ms)");
        Assert.Equal(["room1"], await survivor.Server.GetRoomsAsync().DefaultTimeout());
        Assert.Equal(1, await survivor.Server.GetRoomConnectionCountAsync("room1").DefaultTimeout());
    }

    [RedisFact]
    public async Task Health_is_healthy_with_redis_and_degraded_without_and_publishes_and_their_failures_are_counted()
    {
        RealtimeTestHost node = await StartNodeAsync("health", publishTimeout: TimeSpan.FromSeconds(1), heartbeat: TimeSpan.FromMilliseconds(200), nodeTimeout: TimeSpan.FromSeconds(1));
        IMeterFactory meters = node.Services.GetRequiredService<IMeterFactory>();
        using var published = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.backplane.published");
        using var failures = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.backplane.publish_failures");
        using var received = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.backplane.received");
        ConnectionRecorder member = await ConnectAsync(node, "room1");
        await node.Server.BroadcastAsync("room1", 1, "t").DefaultTimeout();
        await member.WaitForEventAsync("message:t");
        Assert.Equal(1, published.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, received.GetMeasurementSnapshot().Sum(m => m.Value));

        using var http = new HttpClient();
        string health = $"http://127.0.0.1:{node.Port}/healthz";
        Assert.Equal("Healthy", await http.GetStringAsync(health).DefaultTimeout());

        await Redis.DisposeAsync();
        Redis = null!; // disposed
        await Assert.ThrowsAsync<RedisBackplaneException>(() => node.Server.BroadcastAsync("room1", 2, "t").DefaultTimeout());
        Assert.Equal(1, failures.GetMeasurementSnapshot().Sum(m => m.Value));
        await WaitUntilAsync(async () => await http.GetStringAsync(health) == "Degraded", "the health check to report Degraded");
    }

    [RedisFact]
    public async Task Each_published_broadcast_records_how_long_redis_took_to_answer()
    {
        RealtimeTestHost node = await StartNodeAsync("latency", publishTimeout: TimeSpan.FromSeconds(5));
        IMeterFactory meters = node.Services.GetRequiredService<IMeterFactory>();
        using var duration = new MetricCollector<double>(meters, "Realtime.Server", "realtime.server.backplane.publish.duration");
        using var published = new MetricCollector<long>(meters, "Realtime.Server", "realtime.server.backplane.published");
        ConnectionRecorder member = await ConnectAsync(node, "room1");
        for (int i = 1; i <= 3; i++)
        {
            await node.Server.BroadcastAsync("room1", i, "t").DefaultTimeout();
        }

        await member.WaitForCountAsync("message:t", 3);
        Assert.Equal("s", duration.Instrument!.Unit);
        IReadOnlyList<CollectedMeasurement<double>> measured = duration.GetMeasurementSnapshot();
        Assert.Equal(3, measured.Count); // recorded before BroadcastAsync completed: one per published broadcast
        Assert.All(measured, m =>
        {
            Assert.InRange(m.Value, double.Epsilon, 5); // a real round trip to Redis, within the publish timeout
            Assert.Empty(m.Tags);
        });
        Assert.Equal(3, published.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [RedisFact]
    public async Task With_redis_down_at_start_up_a_node_starts_and_refuses_joins_with_1011_within_the_timeout_then_serves_once_redis_is_up()
    {
        int port = RedisServer.FreePort();
        RealtimeTestHost node = await StartNodeAsync("late", publishTimeout: TimeSpan.FromSeconds(1), configuration: $"127.0.0.1:{port}");
        var clock = Stopwatch.StartNew();
        await using RawProtocolClient refused = await RawProtocolClient.ConnectAsync(node.Url.ToString());
        await refused.HelloAsync();
        Assert.Equal(1011, await refused.ReceiveCloseAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refused after {clock.Elapsed}");

        await using RedisServer late = await RedisServer.StartAsync(port);
        ConnectionRecorder member = await ConnectWithRetryAsync(node, "room1");
        await node.Server.BroadcastAsync("room1", 1, "t").DefaultTimeout();
        await member.WaitForEventAsync("message:t");
    }

    [RedisFact]
    public async Task After_a_redis_restart_the_nodes_reconnect_and_resubscribe_by_themselves_and_cross_node_traffic_resumes()
    {
        (RealtimeTestHost a, _, ConnectionRecorder onA, ConnectionRecorder onB) = await TwoMembersAsync("restart", TimeSpan.FromSeconds(1));
        await a.Server.BroadcastAsync("room1", 0, "before").DefaultTimeout();
        await onB.WaitForEventAsync("message:before");

        await RestartRedisAsync();

        // Published until one arrives: the first ones may fail (RedisBackplaneException) or go out before B has resubscribed.
        await BroadcastUntilReceivedAsync(a, onB, "after");

        Assert.True(onA.Connection.Connected);
        Assert.True(onB.Connection.Connected);
    }

    [RedisFact]
    public async Task A_paused_redis_fails_publishes_within_the_timeout_without_blocking_any_caller_or_connection_and_traffic_resumes_after()
    {
        RealtimeTestHost a = await StartNodeAsync("paused", publishTimeout: TimeSpan.FromMilliseconds(500));
        RealtimeTestHost b = await StartNodeAsync("paused", publishTimeout: TimeSpan.FromMilliseconds(500));
        ConnectionRecorder onA = await ConnectAsync(a, "room1");
        ConnectionRecorder onB = await ConnectAsync(b, "room1");
        string idOnA = onA.Connection.Id!;

        await Inspector.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RedisBackplaneException>(() => a.Server.BroadcastAsync("room1", 1, "during").DefaultTimeout());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"failed after {clock.Elapsed}");

        // The synchronous Broadcast returns at once, and a connection's own send path does not wait for Redis.
        clock.Restart();
        a.Server.Broadcast("room1", 2, "during");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(200), $"Broadcast blocked for {clock.Elapsed}");
        a.Server.GetConnection(idOnA)!.Send(3, "direct");
        await onA.WaitForEventAsync("message:direct");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a local send waited {clock.Elapsed}");

        await BroadcastUntilReceivedAsync(a, onB, "after-pause");

        // What failed while Redis was paused ran there once the pause ended (it was queued before it), and was not delivered.
        Assert.DoesNotContain("message:during", onB.Events);
        Assert.DoesNotContain("message:during", onA.Events);
    }

    [RedisFact]
    public async Task An_oversized_broadcast_is_refused_at_the_call_and_never_reaches_redis()
    {
        RealtimeTestHost node = await StartNodeAsync("size", configureOptions: o => o.MaxMessageSize = 4096);
        using var published = new MetricCollector<long>(node.Services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.backplane.published");
        ConnectionRecorder member = await ConnectAsync(node, "room1");
        string tooBig = new('x', 4096 + Realtime.Protocol.ProtocolLimits.EnvelopeAllowance);

        ArgumentException ex = await Assert.ThrowsAsync<ArgumentException>(() => node.Server.BroadcastAsync("room1", tooBig, "big").DefaultTimeout());
        Assert.Contains("Realtime:MaxMessageSize", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => node.Server.Broadcast("room1", tooBig, "big"));
        await Assert.ThrowsAsync<ArgumentException>(() => node.Server.SendAsync("not-on-this-node-0000", tooBig, "big").DefaultTimeout());

        await node.Server.BroadcastAsync("room1", 1, "small").DefaultTimeout();
        await member.WaitForEventAsync("message:small");
        Assert.DoesNotContain("message:big", member.Events);
        Assert.Equal(1, published.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, await Inspector.GetDatabase().StreamLengthAsync("size:r:room1:l")); // the room's log holds the small one only
    }

    [RedisFact]
    public async Task A_slow_member_in_a_room_spread_over_nodes_is_cut_off_by_its_own_queue_while_the_others_get_everything()
    {
        RealtimeTestHost a = await StartNodeAsync("slow");
        RealtimeTestHost b = await StartNodeAsync("slow", configureOptions: o =>
        {
            o.MaxQueuedMessages = 64;
            o.MaxQueuedBytes = 256 * 1024;
        });
        ConnectionRecorder onA = await ConnectAsync(a, "room1");
        ConnectionRecorder onB = await ConnectAsync(b, "room1");
        var probe = new ServerConnectionProbe(b.Server);
        await using RawProtocolClient stalled = await RawProtocolClient.ConnectWelcomedAsync(b.Url.ToString()); // then never reads again
        string stalledId = stalled.ConnectionId!;
        await probe.WaitAsync(stalledId);

        const int Count = 1000; // 16 MB: more than the loopback socket buffers and the 256 KB queue hold
        string payload = new('x', 16 * 1024);
        // The healthy members keep up: at most this many broadcasts ahead of them, which their node's queue always holds (8 × 16 KB
        // is under its 256 KB), so only the stalled member can fill its queue, however slowly the others read.
        const int Window = 8;
        for (int i = 0; i < Count; i++)
        {
            if (i >= Window)
            {
                await onA.WaitForCountAsync("message:bulk", i - Window + 1);
                await onB.WaitForCountAsync("message:bulk", i - Window + 1);
            }

            await a.Server.BroadcastAsync("room1", new { i, payload }, "bulk").DefaultTimeout();
        }

        Assert.Equal(DisconnectReason.TransportError, await probe.WaitForDisconnectAsync(stalledId));
        await onA.WaitForCountAsync("message:bulk", Count);
        await onB.WaitForCountAsync("message:bulk", Count);
        int[] order = [.. onB.Messages.Where(m => m.Type == "bulk").Select(m => m.Data.GetProperty("i").GetInt32())];
        Assert.Equal(Enumerable.Range(0, Count), order);
    }
}
