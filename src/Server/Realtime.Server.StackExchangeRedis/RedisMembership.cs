using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The cluster's membership and connection directory: a room's members (connection → node), the rooms with members, every connection's
/// node, and each node's own memberships (so the others can remove them when it dies). Every change is one script, one round trip.
/// Sends and closes by connection id go to the owning node's channel.
/// </summary>
internal sealed class RedisMembership(RedisLink link, RedisKeys keys, HistoryRooms history, string nodeId)
{
    // KEYS: the room's members, the rooms, the directory, this node's memberships, the nodes, the room's sequence and log, its
    // features' member states.
    // ARGV: connection, node, room. A room with members keeps its sequence and log (set to expire by a broadcast to the empty room,
    // or by its last member's leave in a room that keeps a history).
    private const string AddScript = """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[4], ARGV[3] .. '\31' .. ARGV[1])
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[5], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[2])
        redis.call('PERSIST', KEYS[6])
        redis.call('PERSIST', KEYS[7])
        """;

    // The same keys, the connection's resume claim, and ARGV[4]: how long (ms) the room keeps what a client needs to recover after
    // the connection's end, 0 when it keeps no history. Only this node's entries are removed: a connection id that another node holds
    // now (a client-chosen id) keeps its entries. In a room with history, the connection may be resumed from now on (as
    // ConnectionEndedAsync records, in the same step as its directory entry goes: a claim never finds it neither live nor ended).
    // The room's last member takes its member states with it, and its sequence and log too, unless the room keeps a history: they
    // then expire, so that a client that was its last member can come back and recover (a join persists them again).
    private const string RemoveScript = """
        local mine = redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2]
        if mine then redis.call('HDEL', KEYS[1], ARGV[1]) end
        if mine and tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[9], 'e', 'PX', ARGV[4], 'NX') end
        if redis.call('HLEN', KEYS[1]) == 0 then
          redis.call('SREM', KEYS[2], ARGV[3])
          if tonumber(ARGV[4]) > 0 then
            redis.call('PEXPIRE', KEYS[6], ARGV[4])
            redis.call('PEXPIRE', KEYS[7], ARGV[4])
            redis.call('DEL', KEYS[8])
          else
            redis.call('DEL', KEYS[6], KEYS[7], KEYS[8])
          end
        end
        if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[3], ARGV[1]) end
        redis.call('SREM', KEYS[4], ARGV[3] .. '\31' .. ARGV[1])
        """;

    public async ValueTask AddAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        => await link.RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(AddScript, Keys(roomId), [connectionId, nodeId, roomId]), "add a member", cancellationToken)
            .ConfigureAwait(false);

    public async ValueTask RemoveAsync(string roomId, string connectionId, CancellationToken cancellationToken)
    {
        long keepMs = history.KeepAfterLastLeaveMs(roomId);
        RedisKey[] keyList = keepMs > 0 ? [.. Keys(roomId), keys.ResumeClaim(connectionId)] : Keys(roomId); // the claim only in a room with history
        await link.RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(RemoveScript, keyList, [connectionId, nodeId, roomId, keepMs]), "remove a member", cancellationToken)
            .ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken)
    {
        RedisValue[] rooms = await link.RunAsync(redis => redis.GetDatabase().SetMembersAsync(keys.Rooms), "list the rooms", cancellationToken).ConfigureAwait(false);
        return [.. rooms.Select(r => r.ToString())];
    }

    public async ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
    {
        RedisValue[] ids = await link.RunAsync(redis => redis.GetDatabase().HashKeysAsync(keys.Members(roomId)), "list a room's members", cancellationToken).ConfigureAwait(false);
        return [.. ids.Select(id => id.ToString())];
    }

    public async ValueTask<int> GetRoomConnectionCountAsync(string roomId, CancellationToken cancellationToken)
        => (int)await link.RunAsync(redis => redis.GetDatabase().HashLengthAsync(keys.Members(roomId)), "count a room's members", cancellationToken).ConfigureAwait(false);

    public async ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken)
        => (int)await link.RunAsync(redis => redis.GetDatabase().HashLengthAsync(keys.Connections), "count the connections", cancellationToken).ConfigureAwait(false);

    /// <summary>The live nodes, each with the counts and the Redis time of its last heartbeat.</summary>
    public async ValueTask<IReadOnlyList<RealtimeNodeStatus>> GetNodesAsync(CancellationToken cancellationToken)
    {
        (SortedSetEntry[] beats, HashEntry[] counts) = await link.RunAsync(async redis =>
        {
            IDatabase db = redis.GetDatabase();
            Task<SortedSetEntry[]> beats = db.SortedSetRangeByRankWithScoresAsync(keys.Nodes);
            Task<HashEntry[]> counts = db.HashGetAllAsync(keys.NodeCounts);
            return (await beats.ConfigureAwait(false), await counts.ConfigureAwait(false));
        }, "read the nodes", cancellationToken).ConfigureAwait(false);
        Dictionary<string, string> byNode = counts.ToDictionary(c => c.Name.ToString(), c => c.Value.ToString(), StringComparer.Ordinal);
        var nodes = new List<RealtimeNodeStatus>(beats.Length);
        foreach (SortedSetEntry beat in beats)
        {
            string node = beat.Element.ToString();
            string[] parts = byNode.GetValueOrDefault(node, "0 0").Split(' ');
            nodes.Add(new RealtimeNodeStatus(node, ParseCount(parts[0]), parts.Length > 1 ? ParseCount(parts[1]) : 0,
                                             DateTimeOffset.FromUnixTimeMilliseconds((long)beat.Score)));
        }

        return nodes;
    }

    private static int ParseCount(string value) => int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out int count) ? count : 0;

    /// <summary>A send or close for a connection on another node: to that node's channel, found in the connection directory.</summary>
    /// <returns><see langword="false"/> when no other node has it, or that node does not listen.</returns>
    public async ValueTask<bool> ToOwnerAsync(string connectionId, byte[] frame, CancellationToken cancellationToken)
    {
        RedisValue node = await link.RunAsync(redis => redis.GetDatabase().HashGetAsync(keys.Connections, connectionId), "find a connection", cancellationToken)
            .ConfigureAwait(false);
        if (node.IsNull || node == nodeId)
        {
            return false; // nowhere, or here and gone meanwhile
        }

        long receivers = await link.RunAsync(redis => redis.GetSubscriber().PublishAsync(keys.Node(node.ToString()), frame), "reach a connection's node", cancellationToken)
            .ConfigureAwait(false);
        return receivers > 0;
    }

    private RedisKey[] Keys(string roomId)
        => [keys.Members(roomId), keys.Rooms, keys.Connections, keys.NodeMembers(nodeId), keys.Nodes, keys.Sequence(roomId), keys.Log(roomId), keys.States(roomId)];
}
