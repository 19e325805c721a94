using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Realtime.Client;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>
/// Per-room total order across the cluster and what happens to it when the link to Redis breaks, against a real redis-server: every
/// member either receives every broadcast, in the room's one order, or is told of the gap (a <c>realtime.gap</c> message) in its place.
/// </summary>
public sealed class RedisOrderingTests : RedisClusterTest
{
    private const string Gap = "message:" + RedisBackplane.GapMessageType;

    [RedisFact]
    public async Task Three_nodes_with_four_publishers_each_deliver_every_broadcast_to_every_member_in_one_contiguous_order()
    {
        const int Publishers = 12, PerPublisher = 840; // 10 080 broadcasts
        var nodes = new List<RealtimeTestHost>();
        var members = new List<ConnectionRecorder>();
        for (int n = 0; n < 3; n++)
        {
            RealtimeTestHost node = await StartNodeAsync("order", configureOptions: o => o.MaxQueuedMessages = 2 * Publishers * PerPublisher);
            nodes.Add(node);
            members.Add(await ConnectAsync(node, "room1"));
            members.Add(await ConnectAsync(node, "room1"));
        }

        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < PerPublisher; i++)
            {
                await nodes[p % 3].Server.BroadcastAsync("room1", new { p, i }, "m");
            }
        }))).DefaultTimeout();

        (int P, int I)[]? first = null;
        foreach (ConnectionRecorder member in members)
        {
            await member.WaitForCountAsync("message:m", Publishers * PerPublisher);
            (int P, int I)[] seen = [.. member.Messages.Where(m => m.Type == "m").Select(m => (m.Data.GetProperty("p").GetInt32(), m.Data.GetProperty("i").GetInt32()))];
            Assert.Equal(Publishers * PerPublisher, seen.Length);
            Assert.Equal(seen.Length, seen.Distinct().Count());
            for (int p = 0; p < Publishers; p++)
            {
                Assert.Equal(Enumerable.Range(0, PerPublisher), seen.Where(s => s.P == p).Select(s => s.I)); // each publisher's own order kept
            }

            first ??= seen;
            Assert.Equal(first, seen); // and one order for every member on every node
            Assert.DoesNotContain(Gap, member.Events);
        }
    }

    [RedisFact]
    public async Task A_node_that_subscribes_to_a_busy_room_reports_no_gap_for_what_was_published_between_its_subscription_and_its_read()
    {
        // A publishes without a pause while B's only member joins and leaves again and again: each join subscribes B to the room
        // and reads the room's sequence, and broadcasts land between the two. None of them is a gap.
        RealtimeTestHost a = await StartNodeAsync("busy");
        RealtimeTestHost b = await StartNodeAsync("busy");
        using var gaps = new MetricCollector<long>(b.Services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.backplane.gaps");
        ConnectionRecorder onA = await ConnectAsync(a, "room1"); // keeps the room's sequence alive between B's joins
        using var stop = new CancellationTokenSource();
        Task publishing = Task.Run(async () =>
        {
            for (int i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
            {
                await a.Server.BroadcastAsync("room1", i, "tick");
            }
        });

        var seen = new List<string>();
        const int Joins = 40;
        for (int join = 0; join < Joins; join++)
        {
            ConnectionRecorder onB = await ConnectAsync(b, "room1");
            await onB.WaitForEventAsync("message:tick"); // subscribed, and the room's traffic reaches it
            seen.AddRange(onB.Events);
            await onB.Connection.DisposeAsync();
            await WaitUntilAsync(() => Task.FromResult(!b.Server.Rooms.Contains("room1")), "B to leave the room (and unsubscribe)");
        }

        await stop.CancelAsync();
        await publishing.DefaultTimeout();
        Assert.DoesNotContain(Gap, seen);
        Assert.Equal(0, gaps.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.DoesNotContain(Gap, onA.Events);
    }

    [RedisFact]
    public async Task Broadcasts_missed_on_a_broken_subscriber_link_are_repaired_from_the_room_s_log_in_order_without_a_gap()
    {
        (RealtimeTestHost a, RealtimeTestHost b, FaultProxy link, ConnectionRecorder onA, ConnectionRecorder onB) = await TwoNodesAsync("repair");
        using var repaired = new MetricCollector<long>(b.Services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.backplane.repaired");

        link.Blackhole(FaultDirection.ServerToClient); // Redis → node B: what B's links receive is swallowed
        await PublishAsync(a, 20);
        Assert.DoesNotContain("message:during", onB.Events);
        // Reset before healing: Redis has queued the 20 pushes to B's link as it was, and a push still on its way when the proxy
        // healed would pass (then nothing is repaired). Reset first, they die with that link, whenever they arrive.
        link.ResetConnections(); // B reconnects, resubscribes, and reads the room's sequence again
        link.Heal();

        await onB.WaitForCountAsync("message:during", 20);
        await onA.WaitForCountAsync("message:during", 20);
        Assert.Equal(Enumerable.Range(1, 20), Ints(onB, "during").Order());
        Assert.Equal(Ints(onA, "during"), Ints(onB, "during")); // in the room's one order
        Assert.DoesNotContain(Gap, onB.Events);
        Assert.Equal(20, repaired.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [RedisFact]
    public async Task Killed_subscriber_links_are_reconnected_and_every_broadcast_published_meanwhile_reaches_every_member_in_order()
    {
        (RealtimeTestHost a, _, ConnectionRecorder onA, ConnectionRecorder onB) = await TwoMembersAsync("killed", TimeSpan.FromSeconds(1));
        await Inspector.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub"); // both nodes' subscriber links

        // The command links stay up, so the first broadcasts are published while no node listens: they come from the room's log.
        List<int> published = await PublishWhileReconnectingAsync(a, onB, "after");
        foreach (ConnectionRecorder member in new[] { onA, onB })
        {
            await member.WaitForCountAsync("message:after", published.Count);
            Assert.Equal(published, Ints(member, "after"));
            Assert.DoesNotContain(Gap, member.Events);
        }
    }

    [RedisFact]
    public async Task A_gap_longer_than_the_room_s_log_is_reported_with_the_number_missed_in_its_place_and_the_rest_is_repaired()
    {
        (RealtimeTestHost a, RealtimeTestHost b, FaultProxy link, ConnectionRecorder onA, ConnectionRecorder onB) = await TwoNodesAsync("trimmed", historySize: 5);
        using var gaps = new MetricCollector<long>(b.Services.GetRequiredService<IMeterFactory>(), "Realtime.Server", "realtime.server.backplane.gaps");

        link.Blackhole(FaultDirection.ServerToClient);
        await PublishAsync(a, 20);

        // Reset before healing: the pushes Redis queued to the old link must not slip through a healed proxy (B would see them
        // arrive out of order and report the gap twice).
        link.ResetConnections();
        link.Heal();

        await onA.WaitForCountAsync("message:during", 20);
        await onB.WaitForCountAsync("message:during", 5);
        Message[] after = [.. onB.Messages.SkipWhile(m => m.Type != RedisBackplane.GapMessageType)];
        Assert.True(after.Length == 6, "B received: " + string.Join(", ", onB.Messages.Select(m => m.Type + " " + m.Data)));
        Assert.Equal(15, after[0].Data.GetProperty("missed").GetInt32());
        Assert.Equal(Ints(onA, "during").Skip(15), after.Skip(1).Select(m => m.Data.GetInt32())); // the room's last five, in its order
        Assert.Equal(1, gaps.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [RedisFact]
    public async Task A_node_cut_off_from_redis_past_the_node_timeout_is_swept_by_the_others_and_writes_its_members_again_once_it_is_back()
    {
        (RealtimeTestHost a, _, FaultProxy link, ConnectionRecorder onA, ConnectionRecorder onB)
            = await TwoNodesAsync("partition", heartbeat: TimeSpan.FromMilliseconds(200), nodeTimeout: TimeSpan.FromSeconds(1));
        Assert.Equal(2, await a.Server.GetRoomConnectionCountAsync("room1").DefaultTimeout());

        link.Blackhole(); // B can neither reach Redis nor hear from it; its own member stays connected to it
        await WaitUntilAsync(async () => await a.Server.GetRoomConnectionCountAsync("room1") == 1, "the cut-off node to be swept as dead");
        link.Heal();
        link.ResetConnections();

        await WaitUntilAsync(async () => await a.Server.GetRoomConnectionCountAsync("room1") == 2 && await a.Server.GetConnectionCountAsync() == 2,
            "the node that is back to write its members again");
        Assert.Equal(new[] { onA.Connection.Id, onB.Connection.Id }.Order(), (await a.Server.GetConnectionIdsAsync("room1").DefaultTimeout()).Order());
        List<int> published = await PublishWhileReconnectingAsync(a, onB, "after");
        await onB.WaitForCountAsync("message:after", published.Count);
        Assert.Equal(published, Ints(onB, "after"));
        Assert.DoesNotContain(Gap, onB.Events);
    }

    [RedisFact]
    public async Task After_a_redis_restart_that_keeps_the_data_every_published_broadcast_reaches_every_member_in_order_without_a_gap()
    {
        string data = await RestartRedisWithDataAsync();
        (RealtimeTestHost a, _, ConnectionRecorder onA, ConnectionRecorder onB) = await TwoMembersAsync("kept", TimeSpan.FromSeconds(1));
        for (int i = 0; i < 10; i++)
        {
            await a.Server.BroadcastAsync("room1", i, "before").DefaultTimeout();
        }

        await onB.WaitForCountAsync("message:before", 10);
        await Inspector.GetDatabase().ExecuteAsync("SAVE");
        await RestartRedisAsync(data);

        // Every broadcast A manages to publish while the nodes reconnect must arrive, even one published before B resubscribed.
        List<int> published = await PublishWhileReconnectingAsync(a, onB, "after");
        foreach (ConnectionRecorder member in new[] { onA, onB })
        {
            await member.WaitForCountAsync("message:after", published.Count);
            Assert.Equal(published, Ints(member, "after"));
            Assert.Equal(Enumerable.Range(0, 10), Ints(member, "before"));
            Assert.DoesNotContain(Gap, member.Events);
        }
    }

    [RedisFact]
    public async Task After_a_redis_restart_that_loses_the_data_every_member_is_told_of_the_gap_once_and_the_membership_is_written_again()
    {
        (RealtimeTestHost a, RealtimeTestHost b, ConnectionRecorder onA, ConnectionRecorder onB)
            = await TwoMembersAsync("lost", TimeSpan.FromSeconds(1), heartbeat: TimeSpan.FromMilliseconds(200), nodeTimeout: TimeSpan.FromSeconds(1));
        await a.Server.BroadcastAsync("room1", 0, "before").DefaultTimeout();
        await onB.WaitForEventAsync("message:before");

        await RestartRedisAsync(); // empty

        List<int> published = await PublishWhileReconnectingAsync(a, onB, "after");
        foreach (ConnectionRecorder member in new[] { onA, onB })
        {
            await member.WaitForCountAsync("message:after", published.Count);
            Assert.Equal(published, Ints(member, "after"));
            string[] events = [.. member.Events];
            Assert.Single(events, e => e == Gap);
            Assert.True(Array.IndexOf(events, Gap) < Array.IndexOf(events, "message:after"), "the gap is reported before what came after it");
            Assert.Equal(JsonValueKind.Null, member.Messages.Single(m => m.Type == RedisBackplane.GapMessageType).Data.GetProperty("missed").ValueKind);
        }

        // The heartbeat finds that Redis forgot the nodes, and each writes its members again.
        await WaitUntilAsync(async () => await a.Server.GetRoomConnectionCountAsync("room1") == 2 && await b.Server.GetConnectionCountAsync() == 2
                                         && (await b.Server.GetRoomsAsync()).Contains("room1"), "the membership to be written again");
    }

    [RedisFact]
    public async Task A_redis_restored_from_an_older_snapshot_is_reported_as_a_gap_and_what_follows_it_is_delivered_not_dropped_as_duplicates()
    {
        string data = await RestartRedisWithDataAsync();
        (RealtimeTestHost a, _, _, ConnectionRecorder onB) = await TwoMembersAsync("older", TimeSpan.FromSeconds(1));
        await a.Server.BroadcastAsync("room1", 0, "saved").DefaultTimeout();
        await Inspector.GetDatabase().ExecuteAsync("SAVE");
        for (int i = 0; i < 5; i++)
        {
            await a.Server.BroadcastAsync("room1", i, "unsaved").DefaultTimeout(); // numbered 2 to 6, then forgotten by Redis
        }

        await onB.WaitForCountAsync("message:unsaved", 5);
        await RestartRedisAsync(data);

        // Numbered from 2 again. Those published before B noticed cannot be told from the forgotten ones: they are inside the
        // reported gap. After it, nothing is missing.
        List<int> published = await PublishWhileReconnectingAsync(a, onB, "after");
        await onB.WaitForEventAsync("message:after");
        await WaitUntilAsync(() => Task.FromResult(Ints(onB, "after").LastOrDefault() == published[^1]), "the last broadcast");
        int[] received = [.. Ints(onB, "after")];
        Assert.Equal(published.Skip(published.Count - received.Length), received);
        Assert.True(received.Length >= 10, $"only {received.Length} of the broadcasts after B resubscribed arrived");
        string[] events = [.. onB.Events];
        Assert.Single(events, e => e == Gap);
        Assert.True(Array.IndexOf(events, Gap) < Array.IndexOf(events, "message:after"));
    }

    /// <summary>Two nodes, B's links to Redis through a proxy, and a member on each that has received a first broadcast.</summary>
    private async Task<(RealtimeTestHost A, RealtimeTestHost B, FaultProxy Link, ConnectionRecorder OnA, ConnectionRecorder OnB)> TwoNodesAsync(string prefix, int? historySize = null,
                                                                                                                                                     TimeSpan? heartbeat = null, TimeSpan? nodeTimeout = null)
    {
        FaultProxy link = await FaultProxy.StartAsync(new Uri("tcp://" + Redis.Configuration));
        Own(link);
        RealtimeTestHost a = await StartNodeAsync(prefix, historySize: historySize, heartbeat: heartbeat, nodeTimeout: nodeTimeout);
        RealtimeTestHost b = await StartNodeAsync(prefix, historySize: historySize, heartbeat: heartbeat, nodeTimeout: nodeTimeout, publishTimeout: TimeSpan.FromSeconds(1),
                                                  configuration: $"127.0.0.1:{link.Port},connectTimeout=2000");
        ConnectionRecorder onA = await ConnectAsync(a, "room1");
        ConnectionRecorder onB = await ConnectAsync(b, "room1");
        await a.Server.BroadcastAsync("room1", 0, "before").DefaultTimeout();
        await onB.WaitForEventAsync("message:before");
        return (a, b, link, onA, onB);
    }

    /// <summary>
    /// Publishes broadcasts 1 to <paramref name="count"/> of type <c>during</c> from <paramref name="from"/> all at once, so that a
    /// fault is held only for as long as Redis takes to run them.
    /// </summary>
    private static Task PublishAsync(RealtimeTestHost from, int count)
        => Task.WhenAll(Enumerable.Range(1, count).Select(i => from.Server.BroadcastAsync("room1", i, "during"))).DefaultTimeout();

    /// <summary>
    /// Publishes numbered broadcasts from <paramref name="from"/> until <paramref name="to"/> has received one, then ten more; returns
    /// the numbers whose publish succeeded (a publish to a Redis not reconnected yet fails, and is not expected anywhere).
    /// </summary>
    private static async Task<List<int>> PublishWhileReconnectingAsync(RealtimeTestHost from, ConnectionRecorder to, string type)
    {
        var published = new List<int>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int next = 0;
        while (!to.Events.Contains("message:" + type))
        {
            Assert.True(clock.Elapsed < TaskTimeoutExtensions.DefaultTimeoutSpan, $"cross-node traffic did not resume ({type})");
            try
            {
                await from.Server.BroadcastAsync("room1", next, type);
                published.Add(next);
            }
            catch (RedisBackplaneException)
            {
                // Not reconnected yet.
            }

            next++;
            await Task.WhenAny(to.WaitForEventAsync("message:" + type), Task.Delay(100)); // sleep-ok: caps the wait for this attempt's arrival before the next
        }

        for (int i = 0; i < 10; i++, next++)
        {
            await from.Server.BroadcastAsync("room1", next, type).DefaultTimeout();
            published.Add(next);
        }

        return published;
    }

    private static IEnumerable<int> Ints(ConnectionRecorder member, string type) => [.. member.Messages.Where(m => m.Type == type).Select(m => m.Data.GetInt32())];
}
