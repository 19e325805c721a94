using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The backplane on Redis. Every room broadcast, local members included, is one <c>PUBLISH</c> to the room's channel, and every node
/// with members in the room delivers what it receives: Redis orders a channel's messages, so every member on every node sees a
/// room's broadcasts in one order. A node subscribes to a room's channel only while it has members there, and the subscription is
/// acknowledged before a joining connection's <c>welcome</c>. Membership is two hashes and a set, written by scripts (one round trip);
/// a send or close by id goes to the owning node's channel.
/// </summary>
internal sealed partial class RedisBackplane : RealtimeBackplane, IAsyncDisposable
{
    // KEYS: the room's members, the rooms, the directory, this node's memberships, the nodes. ARGV: connection, node, room.
    private const string AddMemberScript = """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[4], ARGV[3] .. '\31' .. ARGV[1])
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[5], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[2])
        """;

    // Only this node's entries are removed: a connection id that another node holds now (a client-chosen id) keeps its entries.
    private const string RemoveMemberScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
        if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[3]) end
        if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[3], ARGV[1]) end
        redis.call('SREM', KEYS[4], ARGV[3] .. '\31' .. ARGV[1])
        """;

    // KEYS: the nodes. ARGV: this node, the node timeout in ms, the prefix, and "beat" or "leave". A beat records this node as alive
    // (in Redis time, so the nodes' clocks do not matter) and removes the memberships of every node silent for longer than the
    // timeout; a leave removes this node's own. Idempotent: two nodes sweeping the same dead node remove it once.
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
            if redis.call('HLEN', members) == 0 then redis.call('SREM', ARGV[3] .. ':rooms', room) end
            local directory = ARGV[3] .. ':c'
            if redis.call('HGET', directory, connection) == node then redis.call('HDEL', directory, connection) end
          end
          redis.call('DEL', index)
          redis.call('ZREM', KEYS[1], node)
          return removed
        end
        if ARGV[4] == 'leave' then return sweep(ARGV[1]) end
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        local removed = 0
        for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))) do
          if node ~= ARGV[1] then removed = removed + sweep(node) end
        end
        return removed
        """;

    private readonly ConfigurationOptions _configuration;
    private readonly RedisBackplaneOptions _options;
    private readonly RedisKeys _keys;
    private readonly ILogger _logger;
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis;
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _rooms = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly RedisBackplaneMetrics _metrics;
    private readonly byte[] _probe;
    private Task _heartbeat = Task.CompletedTask;
    private long _nodes;
    private volatile bool _heartbeatFailed;
    private long _probeSent;     // Stopwatch timestamp of the oldest probe not yet back, 0 when none is out

    public RedisBackplane(ConfigurationOptions configuration, RedisBackplaneOptions options, ILoggerFactory? loggerFactory = null,
                          System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
        : base(options.NodeId)
    {
        _metrics = new RedisBackplaneMetrics(meterFactory, () => Interlocked.Read(ref _nodes));
        _probe = BackplaneCodec.EncodeProbe(NodeId);
        _configuration = configuration;
        _options = options;
        _keys = new RedisKeys(options.Prefix);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Realtime.Server.StackExchangeRedis");
        _redis = new Lazy<Task<ConnectionMultiplexer>>(ConnectAsync);
    }

    public override async ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken)
    {
        ChannelMessageQueue queue = await RunAsync(redis => redis.GetSubscriber().SubscribeAsync(_keys.Room(roomId)), "subscribe to a room", cancellationToken)
            .ConfigureAwait(false);
        queue.OnMessage(message => OnRoomMessage(roomId, message));
        _rooms[roomId] = queue;
        _metrics.Subscribed();
    }

    public override async ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken)
    {
        if (_rooms.TryRemove(roomId, out ChannelMessageQueue? queue))
        {
            _metrics.Unsubscribed();
            await queue.UnsubscribeAsync().WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        byte[] frame = BackplaneCodec.EncodeBroadcast(broadcast);
        try
        {
            await RunAsync(redis => redis.GetSubscriber().PublishAsync(_keys.Room(broadcast.RoomId), frame), "publish a broadcast", cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RedisBackplaneException)
        {
            _metrics.PublishFailed();
            throw;
        }

        _metrics.Published();
    }

    public override ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken)
        => SendLocally(connectionId, message)
            ? ValueTask.FromResult(true)
            : ToOwnerAsync(connectionId, BackplaneCodec.EncodeSend(connectionId, message), cancellationToken);

    public override ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken)
        => CloseLocally(connectionId)
            ? ValueTask.FromResult(true)
            : ToOwnerAsync(connectionId, BackplaneCodec.EncodeClose(connectionId), cancellationToken);

    public override async ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        => await RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(AddMemberScript, [_keys.Members(roomId), _keys.Rooms, _keys.Connections, _keys.NodeMembers(NodeId), _keys.Nodes],
            [connectionId, NodeId, roomId]), "add a member", cancellationToken).ConfigureAwait(false);

    public override async ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        => await RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(RemoveMemberScript, [_keys.Members(roomId), _keys.Rooms, _keys.Connections, _keys.NodeMembers(NodeId)],
            [connectionId, NodeId, roomId]), "remove a member", cancellationToken).ConfigureAwait(false);

    public override async ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken)
    {
        RedisValue[] rooms = await RunAsync(redis => redis.GetDatabase().SetMembersAsync(_keys.Rooms), "list the rooms", cancellationToken).ConfigureAwait(false);
        return [.. rooms.Select(r => r.ToString())];
    }

    public override async ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
    {
        RedisValue[] ids = await RunAsync(redis => redis.GetDatabase().HashKeysAsync(_keys.Members(roomId)), "list a room's members", cancellationToken).ConfigureAwait(false);
        return [.. ids.Select(id => id.ToString())];
    }

    public override async ValueTask<int> GetRoomConnectionCountAsync(string roomId, CancellationToken cancellationToken)
        => (int)await RunAsync(redis => redis.GetDatabase().HashLengthAsync(_keys.Members(roomId)), "count a room's members", cancellationToken).ConfigureAwait(false);

    public override async ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken)
        => (int)await RunAsync(redis => redis.GetDatabase().HashLengthAsync(_keys.Connections), "count the connections", cancellationToken).ConfigureAwait(false);

    /// <summary>A graceful stop: the heartbeat ends and this node's remaining memberships leave the cluster at once.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(false);
        if (_redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully)
        {
            ConnectionMultiplexer redis = _redis.Value.Result;
            try
            {
                await SweepAsync(redis, "leave").WaitAsync(_options.PublishTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Log.HeartbeatFailed(_logger, ex); // the others remove them after NodeTimeout
            }

            await redis.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>What keeps the backplane from working, for the health check; <see langword="null"/> when nothing does.</summary>
    public async Task<string?> ProblemAsync(CancellationToken cancellationToken)
    {
        ConnectionMultiplexer redis;
        try
        {
            redis = await _redis.Value.WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
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
        TimeSpan late = _options.HeartbeatInterval * 2 + _options.PublishTimeout;
        return sent != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(sent) > late
            ? $"The subscriber link delivered nothing for {late}: broadcasts from other nodes are not arriving."
            : null;
    }

    /// <summary>A send or close for a connection on another node: to that node's channel, found in the connection directory.</summary>
    private async ValueTask<bool> ToOwnerAsync(string connectionId, byte[] frame, CancellationToken cancellationToken)
    {
        RedisValue node = await RunAsync(redis => redis.GetDatabase().HashGetAsync(_keys.Connections, connectionId), "find a connection", cancellationToken)
            .ConfigureAwait(false);
        if (node.IsNull || node == NodeId)
        {
            return false; // nowhere, or here and gone meanwhile
        }

        long receivers = await RunAsync(redis => redis.GetSubscriber().PublishAsync(_keys.Node(node.ToString()), frame), "reach a connection's node", cancellationToken)
            .ConfigureAwait(false);
        return receivers > 0;
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
        ChannelMessageQueue node = await redis.GetSubscriber().SubscribeAsync(_keys.Node(NodeId)).ConfigureAwait(false);
        node.OnMessage(OnNodeMessage);
        _heartbeat = HeartbeatAsync(redis);
        return redis;
    }

    private Task<RedisResult> SweepAsync(ConnectionMultiplexer redis, string mode)
        => redis.GetDatabase().ScriptEvaluateAsync(NodesScript, [_keys.Nodes],
            [NodeId, (long)_options.NodeTimeout.TotalMilliseconds, _keys.Prefix, mode]);

    /// <summary>Every <see cref="RedisBackplaneOptions.HeartbeatInterval"/>: this node is alive, and nodes silent past the timeout lose their members.</summary>
    private async Task HeartbeatAsync(ConnectionMultiplexer redis)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);
        try
        {
            do
            {
                try
                {
                    var removed = (long)await SweepAsync(redis, "beat").WaitAsync(_options.PublishTimeout, _stopping.Token).ConfigureAwait(false);
                    if (removed > 0)
                    {
                        Log.DeadNodeSwept(_logger, removed, _options.NodeTimeout);
                    }

                    Interlocked.Exchange(ref _nodes, await redis.GetDatabase().SortedSetLengthAsync(_keys.Nodes).WaitAsync(_options.PublishTimeout, _stopping.Token).ConfigureAwait(false));

                    // The probe goes out through the command link and must come back through the subscriber link.
                    Interlocked.CompareExchange(ref _probeSent, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
                    await redis.GetSubscriber().PublishAsync(_keys.Node(NodeId), _probe).WaitAsync(_options.PublishTimeout, _stopping.Token).ConfigureAwait(false);
                    _heartbeatFailed = false;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    _heartbeatFailed = true;
                    Log.HeartbeatFailed(_logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Runs one Redis operation within <see cref="RedisBackplaneOptions.PublishTimeout"/>; any failure is a <see cref="RedisBackplaneException"/>.</summary>
    private async Task<T> RunAsync<T>(Func<ConnectionMultiplexer, Task<T>> operation, string what, CancellationToken cancellationToken)
    {
        try
        {
            ConnectionMultiplexer redis = await _redis.Value.WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
            return await operation(redis).WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new RedisBackplaneException($"Redis did not answer within {_options.PublishTimeout} (RedisBackplaneOptions.PublishTimeout) to {what}.", ex);
        }
        catch (RedisException ex)
        {
            throw new RedisBackplaneException($"Redis failed to {what}: {ex.Message}", ex);
        }
    }

    private void OnRoomMessage(string roomId, ChannelMessage message)
    {
        byte[]? frame = message.Message;
        if (frame is null || !BackplaneCodec.TryDecode(frame, out BackplaneCodec.Kind kind, out string origin, out string? except, out Message decoded)
            || kind != BackplaneCodec.Kind.Broadcast)
        {
            Log.FrameUndecodable(_logger, message.Channel.ToString());
            return;
        }

        try
        {
            DeliverLocally(new RoomBroadcast(roomId, decoded, except, origin));
            _metrics.Received();
        }
        catch (ArgumentException ex)
        {
            Log.DeliveryFailed(_logger, roomId, ex);
        }
    }

    private void OnNodeMessage(ChannelMessage message)
    {
        byte[]? frame = message.Message;
        if (frame is null || !BackplaneCodec.TryDecode(frame, out BackplaneCodec.Kind kind, out string connectionId, out _, out Message decoded))
        {
            Log.FrameUndecodable(_logger, message.Channel.ToString());
            return;
        }

        if (kind == BackplaneCodec.Kind.Probe)
        {
            Interlocked.Exchange(ref _probeSent, 0);
            return;
        }

        try
        {
            _ = kind == BackplaneCodec.Kind.Close ? CloseLocally(connectionId) : SendLocally(connectionId, decoded);
        }
        catch (ArgumentException ex)
        {
            Log.DeliveryFailed(_logger, connectionId, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A backplane message on {Channel} could not be decoded (another version of Realtime on the same prefix?); dropped.", EventName = "BackplaneFrameUndecodable")]
        public static partial void FrameUndecodable(ILogger logger, string channel);

        [LoggerMessage(2, LogLevel.Warning, "A backplane message for {Target} could not be delivered on this node.", EventName = "BackplaneDeliveryFailed")]
        public static partial void DeliveryFailed(ILogger logger, string target, Exception exception);

        [LoggerMessage(3, LogLevel.Warning, "The backplane's heartbeat could not reach Redis; retrying every heartbeat interval.", EventName = "BackplaneHeartbeatFailed")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Information, "Removed {Members} members of nodes silent for longer than {NodeTimeout} from the cluster's membership.", EventName = "BackplaneDeadNodeSwept")]
        public static partial void DeadNodeSwept(ILogger logger, long members, TimeSpan nodeTimeout);
    }
}
