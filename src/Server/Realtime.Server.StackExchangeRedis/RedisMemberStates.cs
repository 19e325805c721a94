using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// Features' member states (<see cref="RealtimeFeature"/>) for the cluster: one hash per room, field <c>feature \x1f connection</c>.
/// A room's hash goes with its last member (the membership scripts delete it with the room's sequence and log). Reads skip the
/// entries of connections that are no longer members (a dead node's, until the node that swept it has removed them).
/// </summary>
internal sealed class RedisMemberStates(RedisLink link, RedisKeys keys, string nodeId)
{
    // KEYS: the room's states, the room's members. ARGV: field, state, the most entries, the feature's field prefix. 0 added, 1
    // replaced, 2 refused. Entries of connections that are no longer members (a dead node's, not yet removed) do not count.
    private const string SetScript = """
        local existed = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
        if not existed then
          local n = 0
          for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
            if string.sub(field, 1, #ARGV[4]) == ARGV[4] and redis.call('HEXISTS', KEYS[2], string.sub(field, #ARGV[4] + 1)) == 1 then n = n + 1 end
          end
          if n >= tonumber(ARGV[3]) then return 2 end
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        if existed then return 1 end
        return 0
        """;

    // KEYS: the room's states, the room's members. ARGV: field, connection, this node. Removes the entry unless the connection id is a
    // member on another node now (a client that keeps its id came back there: the entry is its newer connection's).
    private const string RemoveScript = """
        local owner = redis.call('HGET', KEYS[2], ARGV[2])
        if owner and owner ~= ARGV[3] then return 0 end
        return redis.call('HDEL', KEYS[1], ARGV[1])
        """;

    // KEYS: the room's states, the room's members. ARGV: the feature's field prefix. Connection, state, connection, state, …
    private const string GetScript = """
        local out = {}
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          if string.sub(all[i], 1, #ARGV[1]) == ARGV[1] then
            local connection = string.sub(all[i], #ARGV[1] + 1)
            if redis.call('HEXISTS', KEYS[2], connection) == 1 then
              out[#out + 1] = connection
              out[#out + 1] = all[i + 1]
            end
          end
        end
        return out
        """;

    public async ValueTask<MemberStateChange> SetAsync(string roomId, string feature, string connectionId, ReadOnlyMemory<byte> state, int maxEntries,
                                                       CancellationToken cancellationToken)
    {
        RedisResult result = await link.RunAsync(
            redis => redis.GetDatabase().ScriptEvaluateAsync(SetScript, [keys.States(roomId), keys.Members(roomId)], [Field(feature, connectionId), state, maxEntries, Prefix(feature)]),
            "set a member state", cancellationToken).ConfigureAwait(false);
        return (long)result switch
        {
            0 => MemberStateChange.Added,
            1 => MemberStateChange.Replaced,
            _ => MemberStateChange.Refused,
        };
    }

    public async ValueTask<bool> RemoveAsync(string roomId, string feature, string connectionId, CancellationToken cancellationToken)
        => (long)await link.RunAsync(
            redis => redis.GetDatabase().ScriptEvaluateAsync(RemoveScript, [keys.States(roomId), keys.Members(roomId)], [Field(feature, connectionId), connectionId, nodeId]),
            "remove a member state", cancellationToken).ConfigureAwait(false) == 1;

    public async ValueTask<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> GetAsync(string roomId, string feature, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await link.RunAsync(
            redis => redis.GetDatabase().ScriptEvaluateAsync(GetScript, [keys.States(roomId), keys.Members(roomId)], [Prefix(feature)]),
            "read member states", cancellationToken).ConfigureAwait(false))!;
        var states = new Dictionary<string, ReadOnlyMemory<byte>>(result.Length / 2, StringComparer.Ordinal);
        for (int i = 0; i + 1 < result.Length; i += 2)
        {
            states[result[i].ToString()] = (byte[])result[i + 1]!;
        }

        return states;
    }

    private static string Prefix(string feature) => feature + "\u001f";

    private static string Field(string feature, string connectionId) => feature + "\u001f" + connectionId;
}
