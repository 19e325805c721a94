using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Testing;
using Realtime.TestSupport;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>
/// The Redis backplane's part in recovery, against a real redis-server: a room's history read from its log (whole or not at all),
/// resume claims that hold once across the cluster, one token secret for every node, positions on what a node delivers, and the
/// room's sequence and log kept for the recovery window after its last member is gone.
/// </summary>
public sealed class RedisRecoveryTests : RedisClusterTest
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(2);

    [RedisFact]
    public async Task The_history_after_a_position_is_every_later_broadcast_decoded_in_order_with_its_position_or_nothing_when_it_is_not_whole()
    {
        RealtimeTestHost node = await StartRecoveryNodeAsync("hist");
        RedisBackplane backplane = BackplaneOf(node);
        for (int i = 1; i <= 8; i++)
        {
            await backplane.PublishAsync(new RoomBroadcast("doc", Message.Create(i, "n"), null, backplane.NodeId), default).DefaultTimeout();
        }

        await backplane.PublishAsync(new RoomBroadcast("doc", Message.Create(9, "c"), "sender-0000000000000", backplane.NodeId, "watchers"), default).DefaultTimeout();
        await backplane.PublishAsync(new RoomBroadcast("doc", new Message("b", new byte[] { 1, 2, 3 }), null, backplane.NodeId), default).DefaultTimeout();
        string epoch = await EpochAsync("hist", "doc");

        IReadOnlyList<RoomBroadcast> missed = (await backplane.ReadHistoryAsync("doc", new RoomPosition(epoch, 3), 1000, Window, default).DefaultTimeout())!;
        Assert.Equal(Enumerable.Range(4, 7).Select(s => (RoomPosition?)new RoomPosition(epoch, s)), missed.Select(b => b.Position));
        Assert.All(missed, b => Assert.Equal("doc", b.RoomId));
        Assert.All(missed, b => Assert.Equal(backplane.NodeId, b.OriginNodeId));
        Assert.Equal([4, 5, 6, 7, 8], missed.Take(5).Select(b => b.Message.Data.GetInt32()));
        Assert.All(missed.Take(5), b => Assert.Null(b.ExceptConnectionId));
        Assert.Equal(("c", 9, "sender-0000000000000", "watchers"), (missed[5].Message.Type, missed[5].Message.Data.GetInt32(), missed[5].ExceptConnectionId, missed[5].Channel));
        Assert.True(missed[6].Message.IsBinary);
        Assert.Equal([1, 2, 3], missed[6].Message.Bytes.ToArray());

        // Nothing missed; a number the room never reached; another epoch; more than the most.
        Assert.Empty((await backplane.ReadHistoryAsync("doc", new RoomPosition(epoch, 10), 1000, Window, default))!);
        Assert.Null(await backplane.ReadHistoryAsync("doc", new RoomPosition(epoch, 11), 1000, Window, default));
        Assert.Null(await backplane.ReadHistoryAsync("doc", new RoomPosition("1.1", 3), 1000, Window, default));
        Assert.Null(await backplane.ReadHistoryAsync("doc", new RoomPosition(epoch, 3), 6, Window, default));
        Assert.Equal(7, (await backplane.ReadHistoryAsync("doc", new RoomPosition(epoch, 3), 7, Window, default))!.Count);

        // Before the room's first broadcast: the epoch's whole log; and a room that never broadcast has nothing to miss.
        IReadOnlyList<RoomBroadcast> all = (await backplane.ReadHistoryAsync("doc", new RoomPosition(string.Empty, 0), 1000, Window, default))!;
        Assert.Equal(Enumerable.Range(1, 10).Select(s => (RoomPosition?)new RoomPosition(epoch, s)), all.Select(b => b.Position));
        Assert.Empty((await backplane.ReadHistoryAsync("quiet", new RoomPosition(string.Empty, 0), 1000, Window, default))!);
        Assert.Null(await backplane.ReadHistoryAsync("quiet", new RoomPosition(epoch, 3), 1000, Window, default));
        Assert.Null(await backplane.ReadHistoryAsync("doc", default, 1000, Window, default));
    }

    [RedisFact]
    public async Task A_room_with_history_keeps_the_longer_log_and_a_position_the_trimmed_log_no_longer_reaches_is_not_recovered()
    {
        // The log keeps max(HistorySize, MaxMessages) in a room with history, HistorySize in the others; Redis trims whole stream
        // nodes (100 entries) at most down to that.
        RealtimeTestHost node = await StartRecoveryNodeAsync("trim", maxMessages: 100, rooms: ["doc-*"], historySize: 5);
        RedisBackplane backplane = BackplaneOf(node);
        IDatabase db = Inspector.GetDatabase();
        long before = await RedisNowAsync();
        for (int i = 1; i <= 250; i++)
        {
            await backplane.PublishAsync(new RoomBroadcast("doc-1", Message.Create(i, "n"), null, backplane.NodeId), default).DefaultTimeout();
            await backplane.PublishAsync(new RoomBroadcast("chat", Message.Create(i, "n"), null, backplane.NodeId), default).DefaultTimeout();
        }

        long after = await RedisNowAsync();
        long kept = await db.StreamLengthAsync("trim:r:doc-1:l");
        Assert.InRange(kept, 100, 249);
        Assert.InRange(await db.StreamLengthAsync("trim:r:chat:l"), 5, 99);

        string epoch = await EpochAsync("trim", "doc-1");
        IReadOnlyList<RoomBroadcast> last = (await backplane.ReadHistoryAsync("doc-1", new RoomPosition(epoch, 150), 100, Window, default).DefaultTimeout())!;
        Assert.Equal(Enumerable.Range(151, 100), last.Select(b => b.Message.Data.GetInt32()));
        Assert.Null(await backplane.ReadHistoryAsync("doc-1", new RoomPosition(epoch, 0), 1000, Window, default)); // trimmed
        Assert.Null(await backplane.ReadHistoryAsync("doc-1", new RoomPosition(string.Empty, 0), 1000, Window, default)); // trimmed
        Assert.Null(await backplane.ReadHistoryAsync("doc-1", new RoomPosition(epoch, 249 - (int)kept), 1000, Window, default)); // one before the oldest kept

        // Each entry of the room with history carries the Redis time it was written at; the other room's are as they were.
        foreach (StreamEntry entry in await db.StreamRangeAsync("trim:r:doc-1:l", "-", "+"))
        {
            Assert.InRange((long)entry["t"], before, after);
        }

        Assert.All(await db.StreamRangeAsync("trim:r:chat:l", "-", "+"), entry => Assert.True(entry["t"].IsNull));
    }

    [RedisFact]
    public async Task A_history_whose_oldest_missed_broadcast_is_older_than_the_max_age_is_not_recovered()
    {
        RealtimeTestHost node = await StartRecoveryNodeAsync("age");
        RedisBackplane backplane = BackplaneOf(node);
        IDatabase db = Inspector.GetDatabase();
        long now = await RedisNowAsync();
        long tenMinutesAgo = now - (long)TimeSpan.FromMinutes(10).TotalMilliseconds;

        // A room's state as the publish script leaves it, with an old first entry (and a third written without a time).
        await db.HashSetAsync("age:r:doc:s", [new HashEntry("e", "100.5"), new HashEntry("s", 3)]);
        await db.StreamAddAsync("age:r:doc:l", [new NameValueEntry("e", "100.5"), new NameValueEntry("f", Frame(1)), new NameValueEntry("t", tenMinutesAgo)], "1-0");
        await db.StreamAddAsync("age:r:doc:l", [new NameValueEntry("e", "100.5"), new NameValueEntry("f", Frame(2)), new NameValueEntry("t", now)], "2-0");
        await db.StreamAddAsync("age:r:doc:l", [new NameValueEntry("e", "100.5"), new NameValueEntry("f", Frame(3))], "3-0");

        Assert.Null(await backplane.ReadHistoryAsync("doc", new RoomPosition("100.5", 0), 1000, Window, default).DefaultTimeout());
        Assert.Equal(3, (await backplane.ReadHistoryAsync("doc", new RoomPosition("100.5", 0), 1000, TimeSpan.FromMinutes(20), default))!.Count);
        Assert.Equal([2, 3], (await backplane.ReadHistoryAsync("doc", new RoomPosition("100.5", 1), 1000, Window, default))!.Select(b => b.Message.Data.GetInt32()));
        Assert.Null(await backplane.ReadHistoryAsync("doc", new RoomPosition("100.5", 2), 1000, Window, default)); // no time: its age is unknown

        // An entry of another epoch in the range (Redis lost the room's state meanwhile) is not this epoch's.
        await db.HashSetAsync("age:r:doc:s", "e", "200.5");
        Assert.Null(await backplane.ReadHistoryAsync("doc", new RoomPosition("200.5", 1), 1000, TimeSpan.FromMinutes(20), default));
    }

    [RedisFact]
    public async Task A_resume_is_claimed_once_in_the_whole_cluster_while_its_window_lasts_and_a_connection_still_open_is_claimed_live()
    {
        RealtimeTestHost a = await StartRecoveryNodeAsync("claims");
        RealtimeTestHost b = await StartRecoveryNodeAsync("claims");
        RedisBackplane onA = BackplaneOf(a), onB = BackplaneOf(b);
        IDatabase db = Inspector.GetDatabase();

        // Ended within the window: claimed once, on any node.
        await onA.ConnectionEndedAsync("ended-0000000000000", Window, default).DefaultTimeout();
        Assert.InRange((long)(await db.KeyTimeToLiveAsync("claims:rs:ended-0000000000000"))!.Value.TotalMilliseconds, 1, Window.TotalMilliseconds);
        Assert.Equal(ResumeClaim.Claimed, await onB.ClaimResumeAsync("ended-0000000000000", Window, default).DefaultTimeout());
        Assert.Equal(ResumeClaim.Refused, await onA.ClaimResumeAsync("ended-0000000000000", Window, default));
        Assert.Equal(ResumeClaim.Refused, await onB.ClaimResumeAsync("ended-0000000000000", Window, default));
        await onA.ConnectionEndedAsync("ended-0000000000000", Window, default); // recorded late: it stays claimed
        Assert.Equal(ResumeClaim.Refused, await onB.ClaimResumeAsync("ended-0000000000000", Window, default));

        // Never known.
        Assert.Equal(ResumeClaim.Refused, await onA.ClaimResumeAsync("unknown-000000000000", Window, default));

        // Still open on node A (its end not noticed yet): claimed live, once.
        ConnectionRecorder open = await ConnectAsync(a, "room1");
        string id = open.Connection.Id!;
        Assert.Equal(ResumeClaim.ClaimedLive, await onB.ClaimResumeAsync(id, Window, default));
        Assert.Equal(ResumeClaim.Refused, await onA.ClaimResumeAsync(id, Window, default));
        await open.Connection.DisposeAsync();
        await WaitUntilAsync(async () => !await db.HashExistsAsync("claims:c", id), "the connection to leave the directory");
        await onA.ConnectionEndedAsync(id, Window, default);
        Assert.Equal(ResumeClaim.Refused, await onB.ClaimResumeAsync(id, Window, default));

        // Past its window.
        await onA.ConnectionEndedAsync("expired-00000000000", TimeSpan.FromMilliseconds(50), default);
        await WaitUntilAsync(async () => !await db.KeyExistsAsync("claims:rs:expired-00000000000"), "the resume window to pass");
        Assert.Equal(ResumeClaim.Refused, await onB.ClaimResumeAsync("expired-00000000000", Window, default));
    }

    [RedisFact]
    public async Task Every_node_signs_resume_tokens_with_one_secret_kept_in_redis()
    {
        RealtimeTestHost a = await StartRecoveryNodeAsync("key");
        RealtimeTestHost b = await StartRecoveryNodeAsync("key");
        byte[] onA = (await BackplaneOf(a).GetResumeKeyAsync(default).DefaultTimeout()).ToArray();
        byte[] onB = (await BackplaneOf(b).GetResumeKeyAsync(default).DefaultTimeout()).ToArray();
        Assert.Equal(32, onA.Length);
        Assert.Equal(onA, onB);
        Assert.Equal(onA, (byte[]?)await Inspector.GetDatabase().StringGetAsync("key:resume-key"));

        // Read once: a node keeps it.
        await Inspector.GetDatabase().KeyDeleteAsync("key:resume-key");
        Assert.Equal(onA, (await BackplaneOf(b).GetResumeKeyAsync(default)).ToArray());
    }

    [RedisFact]
    public async Task A_room_with_history_keeps_its_sequence_and_log_for_the_max_age_after_its_last_member_left_and_a_join_keeps_them_again()
    {
        RealtimeTestHost node = await StartRecoveryNodeAsync("leave", maxAge: TimeSpan.FromMinutes(1), rooms: ["doc-*"]);
        IDatabase db = Inspector.GetDatabase();
        ConnectionRecorder inDoc = await ConnectAsync(node, "doc-1");
        ConnectionRecorder inChat = await ConnectAsync(node, "chat");
        await node.Server.BroadcastAsync("doc-1", 1, "n").DefaultTimeout();
        await node.Server.BroadcastAsync("chat", 1, "n").DefaultTimeout();
        await db.HashSetAsync("leave:r:doc-1:st", "feature\u001f" + inDoc.Connection.Id, "state");
        string docId = inDoc.Connection.Id!, chatId = inChat.Connection.Id!;

        await inDoc.Connection.DisposeAsync();
        await inChat.Connection.DisposeAsync();
        await WaitUntilAsync(async () => await db.SetLengthAsync("leave:rooms") == 0, "both rooms to lose their last member");

        // The room with history: its sequence and log expire within the max age; its member states are gone; its member may be resumed.
        foreach (string key in new[] { "leave:r:doc-1:s", "leave:r:doc-1:l", "leave:rs:" + docId })
        {
            Assert.InRange((await db.KeyTimeToLiveAsync(key))?.TotalMilliseconds ?? -1, 1, 60_000);
        }

        Assert.False(await db.KeyExistsAsync("leave:r:doc-1:st"));

        // The room without: everything goes at once, as before.
        Assert.False(await db.KeyExistsAsync("leave:r:chat:s"));
        Assert.False(await db.KeyExistsAsync("leave:r:chat:l"));
        Assert.False(await db.KeyExistsAsync("leave:rs:" + chatId));

        // A member again: kept for as long as the room has members.
        await ConnectAsync(node, "doc-1");
        Assert.Null(await db.KeyTimeToLiveAsync("leave:r:doc-1:s"));
        Assert.Null(await db.KeyTimeToLiveAsync("leave:r:doc-1:l"));
        Assert.True(await db.KeyExistsAsync("leave:r:doc-1:s"));
    }

    [RedisFact]
    public async Task The_sweep_of_a_dead_node_keeps_the_sequence_and_log_of_its_rooms_with_history_and_lets_its_members_resume()
    {
        IDatabase db = Inspector.GetDatabase();
        string[] rooms = ["doc-1", "a.b(c)", "chat", "axb(c)"]; // the first two keep a history: "doc-*" and "a.b(*" (dots and brackets literal)
        for (int i = 0; i < rooms.Length; i++)
        {
            string room = rooms[i], connection = $"dead-conn-{i}-000000000"[..20];
            await db.SetAddAsync("sweep:n:dead:m", room + "\u001f" + connection);
            await db.HashSetAsync($"sweep:r:{room}:m", connection, "dead");
            await db.HashSetAsync("sweep:c", connection, "dead");
            await db.SetAddAsync("sweep:rooms", room);
            await db.HashSetAsync($"sweep:r:{room}:s", [new HashEntry("e", "1.1"), new HashEntry("s", 1)]);
            await db.StreamAddAsync($"sweep:r:{room}:l", [new NameValueEntry("e", "1.1"), new NameValueEntry("f", Frame(1))], "1-0");
            await db.HashSetAsync($"sweep:r:{room}:st", "feature\u001f" + connection, "state");
        }

        await db.SortedSetAddAsync("sweep:nodes", "dead", 0); // silent since 1970

        RealtimeTestHost node = await StartRecoveryNodeAsync("sweep", maxAge: TimeSpan.FromMinutes(1), rooms: ["doc-*", "a.b(*"],
                                                             heartbeat: TimeSpan.FromMilliseconds(200), nodeTimeout: TimeSpan.FromSeconds(1));
        await node.Server.GetConnectionCountAsync().DefaultTimeout(); // the backplane connects on first use, and its heartbeat starts
        await WaitUntilAsync(async () => await db.SetLengthAsync("sweep:rooms") == 0, "the dead node to be swept");
        for (int i = 0; i < rooms.Length; i++)
        {
            string room = rooms[i], connection = $"dead-conn-{i}-000000000"[..20];
            bool kept = i < 2;
            Assert.False(await db.KeyExistsAsync($"sweep:r:{room}:st"));
            Assert.Equal(kept, await db.KeyExistsAsync($"sweep:r:{room}:s"));
            Assert.Equal(kept, await db.KeyExistsAsync($"sweep:r:{room}:l"));
            if (kept)
            {
                Assert.InRange((await db.KeyTimeToLiveAsync($"sweep:r:{room}:l"))!.Value.TotalMilliseconds, 1, 60_000);
                Assert.Equal(ResumeClaim.Claimed, await BackplaneOf(node).ClaimResumeAsync(connection, Window, default));
            }
            else
            {
                Assert.Equal(ResumeClaim.Refused, await BackplaneOf(node).ClaimResumeAsync(connection, Window, default));
            }
        }
    }

    [RedisFact]
    public async Task A_node_delivers_a_room_with_history_with_redis_positions_and_is_told_where_the_room_stood_when_it_subscribed()
    {
        var options = new RedisBackplaneOptions { Prefix = "pos" };
        var keys = new RedisKeys(options.Prefix);
        var history = new HistoryRooms(new RecoveryOptions { Enabled = true, Rooms = { "doc-*" } });
        var metrics = new RedisBackplaneMetrics(null, () => 0);
        var link = new RedisLink(Microsoft.Extensions.DependencyInjection.RealtimeRedisBuilderExtensions.ForBackplane(ConfigurationOptions.Parse(Redis.Configuration)),
                                 TimeSpan.FromSeconds(5), _ => Task.CompletedTask, _ => { });
        Own(link);
        var delivered = new WatchedList<RoomBroadcast>();
        var starts = new List<(string Room, RoomPosition Position)>();
        var rooms = new RedisRoomChannels(link, keys, options, history, metrics, delivered.Add, (room, position) => starts.Add((room, position)), "node", NullLogger.Instance);
        var publisher = new RedisPublisher(link, keys, new RedisClock(), options, history, metrics, NullLogger.Instance);
        for (int i = 1; i <= 3; i++)
        {
            await publisher.PublishAsync(new RoomBroadcast("doc-1", Message.Create(i, "n"), null, "node"), default).DefaultTimeout();
        }

        string epoch = await EpochAsync("pos", "doc-1");
        await rooms.SubscribeAsync("doc-1", default).DefaultTimeout();
        await rooms.SubscribeAsync("doc-2", default).DefaultTimeout();
        await rooms.SubscribeAsync("chat", default).DefaultTimeout();
        Assert.Equal([("doc-1", new RoomPosition(epoch, 3)), ("doc-2", new RoomPosition(string.Empty, 0))], starts); // none for the room without history

        await publisher.PublishAsync(new RoomBroadcast("doc-1", Message.Create(4, "n"), null, "node"), default).DefaultTimeout();
        await publisher.PublishAsync(new RoomBroadcast("chat", Message.Create(1, "n"), null, "node"), default).DefaultTimeout();
        await publisher.PublishAsync(new RoomBroadcast("doc-1", Message.Create(5, "n"), null, "node"), default).DefaultTimeout();
        await delivered.WaitForAsync(d => d.Count == 3, "three broadcasts");
        RoomBroadcast[] inDoc = [.. delivered.Items.Where(b => b.RoomId == "doc-1")];
        Assert.Equal([new RoomPosition(epoch, 4), new RoomPosition(epoch, 5)], inDoc.Select(b => b.Position));
        Assert.Equal([4, 5], inDoc.Select(b => b.Message.Data.GetInt32()));
        Assert.Null(Assert.Single(delivered.Items, b => b.RoomId == "chat").Position);

        foreach (string room in new[] { "doc-1", "doc-2", "chat" })
        {
            await rooms.UnsubscribeAsync(room, default);
        }
    }

    [RedisFact]
    public async Task A_member_that_dropped_on_one_node_is_resumable_on_another_with_everything_broadcast_since_read_from_the_room_s_log()
    {
        // What the server asks of the backplane when a client comes back: its drop on A left the room without members; both nodes
        // broadcast meanwhile; B claims the resume and reads the history after the client's last position.
        RealtimeTestHost a = await StartRecoveryNodeAsync("across");
        RealtimeTestHost b = await StartRecoveryNodeAsync("across");
        IDatabase db = Inspector.GetDatabase();
        ConnectionRecorder member = await ConnectAsync(a, "doc");
        for (int i = 0; i < 10; i++)
        {
            await a.Server.BroadcastAsync("doc", i, "before").DefaultTimeout();
        }

        await member.WaitForCountAsync("message:before", 10);
        var last = new RoomPosition(await EpochAsync("across", "doc"), 10);
        string id = member.Connection.Id!;
        await member.Connection.DisposeAsync();
        await WaitUntilAsync(async () => !await db.KeyExistsAsync("across:r:doc:m"), "the room to lose its only member");
        for (int i = 0; i < 200; i++)
        {
            await (i % 2 == 0 ? a : b).Server.BroadcastAsync("doc", i, "during").DefaultTimeout();
        }

        RedisBackplane onB = BackplaneOf(b);
        Assert.Equal(ResumeClaim.Claimed, await onB.ClaimResumeAsync(id, Window, default).DefaultTimeout());
        IReadOnlyList<RoomBroadcast> missed = (await onB.ReadHistoryAsync("doc", last, 1000, Window, default).DefaultTimeout())!;
        Assert.Equal(Enumerable.Range(0, 200), missed.Select(m => m.Message.Data.GetInt32()));
        Assert.Equal(Enumerable.Range(11, 200).Select(n => (RoomPosition?)new RoomPosition(last.Epoch, n)), missed.Select(m => m.Position));
        Assert.Null(await onB.ReadHistoryAsync("doc", last, 199, Window, default)); // more than a client may recover
    }

    private Task<RealtimeTestHost> StartRecoveryNodeAsync(string prefix, int maxMessages = 1000, TimeSpan? maxAge = null, string[]? rooms = null, int? historySize = null,
                                                          TimeSpan? heartbeat = null, TimeSpan? nodeTimeout = null)
        => StartNodeAsync(prefix, historySize: historySize, heartbeat: heartbeat, nodeTimeout: nodeTimeout, configureOptions: o =>
        {
            o.Recovery.Enabled = true;
            o.Recovery.MaxMessages = maxMessages;
            o.Recovery.MaxAge = maxAge ?? Window;
            foreach (string room in rooms ?? [])
            {
                o.Recovery.Rooms.Add(room);
            }
        });

    private static RedisBackplane BackplaneOf(RealtimeTestHost node) => (RedisBackplane)node.Services.GetRequiredService<RealtimeBackplane>();

    private async Task<string> EpochAsync(string prefix, string roomId) => (await Inspector.GetDatabase().HashGetAsync($"{prefix}:r:{roomId}:s", "e")).ToString();

    private async Task<long> RedisNowAsync() => RedisClock.ToMs(await Inspector.GetDatabase().ExecuteAsync("TIME"));

    private static byte[] Frame(int data) => BackplaneCodec.EncodeBroadcast(new RoomBroadcast("doc", Message.Create(data, "n"), null, "node"));
}
