using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>This node as its Redis jobs see it: its rooms and members, and delivery to its connections.</summary>
internal interface IRedisLocalNode
{
    /// <summary>The rooms with members on this node.</summary>
    IReadOnlyCollection<string> Rooms { get; }

    /// <summary>A room's members on this node.</summary>
    IReadOnlyCollection<string> MemberIds(string roomId);

    /// <summary>Queues a message to a connection on this node; <see langword="false"/> when none has that id.</summary>
    bool Send(string connectionId, Message message);

    /// <summary>Closes a connection on this node; <see langword="false"/> when none has that id.</summary>
    bool Close(string connectionId);

    /// <summary>Connections of a dead node left a room (this node swept them): the features are told.</summary>
    void MembersLost(string roomId, IReadOnlyCollection<string> connectionIds);

    /// <summary>This node's accepted connections and rooms with members, published with each heartbeat (for the status page).</summary>
    (int Connections, int Rooms) Counts { get; }
}

/// <summary>
/// This node's life in the cluster. Every <see cref="RedisBackplaneOptions.HeartbeatInterval"/> it records in Redis (in Redis's time)
/// that it is alive, and in the same script removes the memberships of nodes silent past <see cref="RedisBackplaneOptions.NodeTimeout"/>;
/// when Redis has forgotten it (lost its data, or swept it while it was cut off) it writes its members again. It owns the node's own
/// channel (sends and closes by connection id, and the probe that tells whether the subscriber link still delivers), reads Redis's
/// clock for <see cref="RedisClock"/>, and says what keeps the backplane from working, for the health check.
/// </summary>
internal sealed class RedisNodeLiveness(RedisLink link, RedisKeys keys, RedisBackplaneOptions options, HistoryRooms history, RedisClock clock,
                                        RedisMembership membership, RedisRoomChannels rooms, IRedisLocalNode local, string nodeId, ILogger logger)
{
    // KEYS: the nodes, and their counts. ARGV: this node, the node timeout in ms, the prefix, "beat" or "leave", and this node's counts
    // ("connections rooms"). A beat records this node as alive (in Redis time, so the nodes' clocks do not matter) with its counts, and removes the memberships of every node silent for longer than the
    // timeout; a leave removes this node's own. Idempotent: two nodes sweeping the same dead node remove it once. Returns the
    // memberships removed (room \x1f connection: this node's features are told, so that, say, presence is removed for everyone), 1
    // when this node's beat marker was missing (its first beat, or Redis lost its data, or swept it as dead), and Redis's time. A
    // room left empty takes its sequence, log and member states with it; with ARGV[6] (ms) not 0, a room that keeps a history (every
    // room, or those matching one of the Lua patterns ARGV[7..]) keeps its sequence and log for that long instead, and its removed
    // members may be resumed for that long (their node never says they ended), so that they can come back on another node and recover.
    private const string Script = """
        local function keeps(room)
          if tonumber(ARGV[6]) == 0 then return false end
          if #ARGV < 7 then return true end
          for i = 7, #ARGV do
            if string.find(room, ARGV[i]) then return true end
          end
          return false
        end
        local function sweep(node)
          local index = ARGV[3] .. ':n:' .. node .. ':m'
          local removed = {}
          for _, entry in ipairs(redis.call('SMEMBERS', index)) do
            local at = string.find(entry, '\31[^\31]*$')
            local room = string.sub(entry, 1, at - 1)
            local connection = string.sub(entry, at + 1)
            local members = ARGV[3] .. ':r:' .. room .. ':m'
            local kept = keeps(room)
            if redis.call('HGET', members, connection) == node then
              redis.call('HDEL', members, connection)
              removed[#removed + 1] = entry
              if kept then redis.call('SET', ARGV[3] .. ':rs:' .. connection, 'e', 'PX', ARGV[6], 'NX') end
            end
            if redis.call('HLEN', members) == 0 then
              redis.call('SREM', ARGV[3] .. ':rooms', room)
              if kept then
                redis.call('PEXPIRE', ARGV[3] .. ':r:' .. room .. ':s', ARGV[6])
                redis.call('PEXPIRE', ARGV[3] .. ':r:' .. room .. ':l', ARGV[6])
                redis.call('DEL', ARGV[3] .. ':r:' .. room .. ':st')
              else
                redis.call('DEL', ARGV[3] .. ':r:' .. room .. ':s', ARGV[3] .. ':r:' .. room .. ':l', ARGV[3] .. ':r:' .. room .. ':st')
              end
            end
            local directory = ARGV[3] .. ':c'
            if redis.call('HGET', directory, connection) == node then redis.call('HDEL', directory, connection) end
          end
          redis.call('DEL', index, ARGV[3] .. ':n:' .. node .. ':b')
          redis.call('ZREM', KEYS[1], node)
          redis.call('HDEL', KEYS[2], node)
          return removed
        end
        local t = redis.call('TIME')
        if ARGV[4] == 'leave' then return { sweep(ARGV[1]), 0, t } end
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
        local fresh = redis.call('SET', ARGV[3] .. ':n:' .. ARGV[1] .. ':b', '1', 'NX') and 1 or 0
        local removed = {}
        for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))) do
          if node ~= ARGV[1] then
            for _, entry in ipairs(sweep(node)) do removed[#removed + 1] = entry end
          end
        end
        return { removed, fresh, t }
        """;

    private readonly byte[] _probe = BackplaneCodec.EncodeProbe(nodeId);
    private readonly RedisValue[] _arguments = [nodeId, (long)options.NodeTimeout.TotalMilliseconds, keys.Prefix];
    private readonly RedisValue[] _historyArguments = history.Enabled ? [history.MaxAgeMs, .. history.LuaPatterns.Select(p => (RedisValue)p)] : [0];
    private Task _heartbeat = Task.CompletedTask;
    private ChannelMessageQueue? _nodeChannel;
    private long _nodes;
    private long _probeSent; // Stopwatch timestamp of the oldest probe not yet back, 0 when none is out
    private volatile bool _heartbeatFailed;
    private bool _reassertPending; // the heartbeat's own

    /// <summary>Live nodes in the cluster, as of this node's last heartbeat.</summary>
    public long Nodes => Interlocked.Read(ref _nodes);

    /// <summary>The connection to Redis is made: the node's channel is subscribed and the heartbeat starts.</summary>
    public async Task StartAsync(ConnectionMultiplexer redis)
    {
        await SubscribeNodeChannelAsync(redis).ConfigureAwait(false);
        _heartbeat = HeartbeatAsync(redis);
    }

    /// <summary>A graceful stop: the heartbeat ends, and this node's remaining memberships leave the cluster at once.</summary>
    public async Task StopAsync()
    {
        await link.StopAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(false);
        if (link.Current is { } redis)
        {
            try
            {
                await SweepAsync(redis, "leave").WaitAsync(link.Timeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                RedisLog.HeartbeatFailed(logger, ex); // the others remove them after NodeTimeout
            }
        }
    }

    /// <summary>What keeps the backplane from working, for the health check; <see langword="null"/> when nothing does.</summary>
    public async Task<string?> ProblemAsync(CancellationToken cancellationToken)
    {
        ConnectionMultiplexer redis;
        try
        {
            redis = await link.GetAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return "Redis is unreachable: " + ex.Message;
        }

        if (!redis.IsConnected)
        {
            return "Redis is unreachable; the backplane is reconnecting.";
        }

        if (_heartbeatFailed)
        {
            return "The backplane's last heartbeat failed.";
        }

        long sent = Interlocked.Read(ref _probeSent);
        TimeSpan late = options.HeartbeatInterval * 2 + options.PublishTimeout;
        return sent != 0 && Stopwatch.GetElapsedTime(sent) > late
            ? $"The subscriber link delivered nothing for {late}: broadcasts from other nodes are not arriving."
            : null;
    }

    private Task<RedisResult> SweepAsync(ConnectionMultiplexer redis, string mode)
    {
        (int connections, int rooms) = local.Counts;
        return redis.GetDatabase().ScriptEvaluateAsync(Script, [keys.Nodes, keys.NodeCounts], [.. _arguments, mode, $"{connections} {rooms}", .. _historyArguments]);
    }

    private async Task HeartbeatAsync(ConnectionMultiplexer redis)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        try
        {
            do
            {
                try
                {
                    await BeatAsync(redis).ConfigureAwait(false);
                    _heartbeatFailed = false;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or RedisBackplaneException)
                {
                    _heartbeatFailed = true;
                    RedisLog.HeartbeatFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(link.Stopping).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (link.Stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task BeatAsync(ConnectionMultiplexer redis)
    {
        await SubscribeNodeChannelAsync(redis).ConfigureAwait(false);
        long sent = Stopwatch.GetTimestamp();
        var beat = (RedisResult[])(await SweepAsync(redis, "beat").WaitAsync(link.Timeout, link.Stopping).ConfigureAwait(false))!;
        clock.Record(RedisClock.ToMs(beat[2]), sent, Stopwatch.GetTimestamp());
        var removed = (RedisResult[])beat[0]!;
        if (removed.Length > 0)
        {
            RedisLog.DeadNodeSwept(logger, removed.Length, options.NodeTimeout);
            foreach (IGrouping<string, (string Room, string Connection)> room in removed.Select(r => Membership(r.ToString())).GroupBy(m => m.Room))
            {
                local.MembersLost(room.Key, [.. room.Select(m => m.Connection)]);
            }
        }

        if ((long)beat[1] == 1 || _reassertPending)
        {
            // Redis forgot this node: its data was lost, or it was swept as dead. Until every member is written again, each beat tries.
            _reassertPending = true;
            await ReassertMembersAsync().ConfigureAwait(false);
            _reassertPending = false;
        }

        rooms.OnHeartbeat();
        Interlocked.Exchange(ref _nodes, await redis.GetDatabase().SortedSetLengthAsync(keys.Nodes).WaitAsync(link.Timeout, link.Stopping).ConfigureAwait(false));

        // The probe goes out through the command link and must come back through the subscriber link.
        Interlocked.CompareExchange(ref _probeSent, Stopwatch.GetTimestamp(), 0);
        await redis.GetSubscriber().PublishAsync(keys.Node(nodeId), _probe).WaitAsync(link.Timeout, link.Stopping).ConfigureAwait(false);
    }

    /// <summary>A membership entry, <c>room \x1f connection</c> (a room id may hold the separator; a connection id never does).</summary>
    private static (string Room, string Connection) Membership(string entry)
    {
        int at = entry.LastIndexOf('\u001f');
        return (entry[..at], entry[(at + 1)..]);
    }

    /// <summary>Redis forgot this node (it lost its data, or swept the node as dead while it was cut off): its members are written again.</summary>
    private async Task ReassertMembersAsync()
    {
        int count = 0;
        foreach (string roomId in local.Rooms)
        {
            foreach (string connectionId in local.MemberIds(roomId))
            {
                await membership.AddAsync(roomId, connectionId, link.Stopping).ConfigureAwait(false);
                count++;
            }
        }

        if (count > 0)
        {
            RedisLog.MembersReasserted(logger, count);
        }
    }

    /// <summary>Subscribes to this node's own channel, unless it is already; with Redis down at start-up, each heartbeat tries again.</summary>
    private async Task SubscribeNodeChannelAsync(ConnectionMultiplexer redis)
    {
        if (_nodeChannel is not null)
        {
            return;
        }

        try
        {
            ChannelMessageQueue node = await redis.GetSubscriber().SubscribeAsync(keys.Node(nodeId)).WaitAsync(link.Timeout, link.Stopping).ConfigureAwait(false);
            node.OnMessage(OnNodeMessage);
            _nodeChannel = node;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            RedisLog.HeartbeatFailed(logger, ex);
        }
    }

    private void OnNodeMessage(ChannelMessage message)
    {
        byte[]? frame = message.Message;
        if (frame is null || !BackplaneCodec.TryDecode(frame, out BackplaneCodec.Kind kind, out string connectionId, out _, out Message decoded))
        {
            RedisLog.FrameUndecodable(logger, message.Channel.ToString());
            return;
        }

        if (kind == BackplaneCodec.Kind.Probe)
        {
            Interlocked.Exchange(ref _probeSent, 0);
            return;
        }

        try
        {
            _ = kind == BackplaneCodec.Kind.Close ? local.Close(connectionId) : local.Send(connectionId, decoded);
        }
        catch (ArgumentException ex)
        {
            RedisLog.DeliveryFailed(logger, connectionId, ex); // a message larger than this node's clients accept
        }
    }
}
