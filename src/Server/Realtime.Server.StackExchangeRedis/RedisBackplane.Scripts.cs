namespace Realtime.Server.StackExchangeRedis;

/// <summary>The Lua scripts: each membership change, publish and heartbeat is one atomic round trip.</summary>
internal sealed partial class RedisBackplane
{
    /// <summary>How long the sequence and log of a room without members are kept (a broadcast to an empty room), in seconds.</summary>
    private const int OrphanSeconds = 600;

    // KEYS: the room's sequence, its log, its members. ARGV: the frame, the log's length, the room's channel, the orphan expiry.
    // The room's epoch is created with its sequence (from Redis time): a sequence that starts again after Redis lost the room's
    // state has a new epoch, so no node mistakes its numbers for the old ones. Returns the broadcast's sequence number.
    private const string PublishScript = """
        local epoch = redis.call('HGET', KEYS[1], 'e')
        if not epoch then
          local t = redis.call('TIME')
          epoch = t[1] .. '.' .. t[2]
          redis.call('HSET', KEYS[1], 'e', epoch)
        end
        local seq = redis.call('HINCRBY', KEYS[1], 's', 1)
        if tonumber(ARGV[2]) > 0 then
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', epoch, 'f', ARGV[1])
        end
        if redis.call('EXISTS', KEYS[3]) == 0 then
          redis.call('EXPIRE', KEYS[1], ARGV[4])
          redis.call('EXPIRE', KEYS[2], ARGV[4])
        end
        redis.call('PUBLISH', ARGV[3], epoch .. '|' .. seq .. '|' .. ARGV[1])
        return seq
        """;

    // KEYS: the room's members, the rooms, the directory, this node's memberships, the nodes, the room's sequence and log.
    // ARGV: connection, node, room. A room with members keeps its sequence and log.
    private const string AddMemberScript = """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[4], ARGV[3] .. '\31' .. ARGV[1])
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[5], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[2])
        redis.call('PERSIST', KEYS[6])
        redis.call('PERSIST', KEYS[7])
        """;

    // The same keys. Only this node's entries are removed: a connection id that another node holds now (a client-chosen id) keeps
    // its entries. The room's last member takes its sequence and log with it.
    private const string RemoveMemberScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
        if redis.call('HLEN', KEYS[1]) == 0 then
          redis.call('SREM', KEYS[2], ARGV[3])
          redis.call('DEL', KEYS[6], KEYS[7])
        end
        if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[3], ARGV[1]) end
        redis.call('SREM', KEYS[4], ARGV[3] .. '\31' .. ARGV[1])
        """;

    // KEYS: the nodes. ARGV: this node, the node timeout in ms, the prefix, and "beat" or "leave". A beat records this node as alive
    // (in Redis time, so the nodes' clocks do not matter) and removes the memberships of every node silent for longer than the
    // timeout; a leave removes this node's own. Idempotent: two nodes sweeping the same dead node remove it once. Returns the
    // members removed, and 1 when this node's beat marker was missing: its first beat, or Redis lost its data, or swept it as dead.
    private const string NodesScript = """
        local function sweep(node)
          local index = ARGV[3] .. ':n:' .. node .. ':m'
          local removed = 0
          for _, entry in ipairs(redis.call('SMEMBERS', index)) do
            local at = string.find(entry, '\31[^\31]*$')
            local room = string.sub(entry, 1, at - 1)
            local connection = string.sub(entry, at + 1)
            local members = ARGV[3] .. ':r:' .. room .. ':m'
            if redis.call('HGET', members, connection) == node then
              redis.call('HDEL', members, connection)
              removed = removed + 1
            end
            if redis.call('HLEN', members) == 0 then
              redis.call('SREM', ARGV[3] .. ':rooms', room)
              redis.call('DEL', ARGV[3] .. ':r:' .. room .. ':s', ARGV[3] .. ':r:' .. room .. ':l')
            end
            local directory = ARGV[3] .. ':c'
            if redis.call('HGET', directory, connection) == node then redis.call('HDEL', directory, connection) end
          end
          redis.call('DEL', index, ARGV[3] .. ':n:' .. node .. ':b')
          redis.call('ZREM', KEYS[1], node)
          return removed
        end
        if ARGV[4] == 'leave' then return { sweep(ARGV[1]), 0 } end
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        local fresh = redis.call('SET', ARGV[3] .. ':n:' .. ARGV[1] .. ':b', '1', 'NX') and 1 or 0
        local removed = 0
        for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))) do
          if node ~= ARGV[1] then removed = removed + sweep(node) end
        end
        return { removed, fresh }
        """;
}
