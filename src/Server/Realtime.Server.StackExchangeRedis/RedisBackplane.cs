using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The backplane on Redis. Every room broadcast, local members included, is one script that numbers it in the room's sequence,
/// keeps it in the room's bounded log and publishes it to the room's channel; every node with members in the room delivers what it
/// receives in sequence order, repairing a gap from the log or reporting it (see <c>RedisBackplane.Ordering.cs</c>), so every
/// member on every node sees a room's broadcasts in one order, without a silent hole. A node subscribes to a room's channel only while it has members there, and the subscription is
/// acknowledged before a joining connection's <c>welcome</c>. Membership is two hashes and a set, written by scripts (one round trip);
/// a send or close by id goes to the owning node's channel.
/// </summary>
internal sealed partial class RedisBackplane : RealtimeBackplane, IAsyncDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly RedisBackplaneOptions _options;
    private readonly RedisKeys _keys;
    private readonly ILogger _logger;
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis;
    private readonly ConcurrentDictionary<string, RoomChannel> _rooms = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly RedisBackplaneMetrics _metrics;
    private readonly byte[] _probe;
    private Task _heartbeat = Task.CompletedTask;
    private long _nodes;
    private volatile bool _heartbeatFailed;
    private long _probeSent;
    private int _checkPending;
    private ChannelMessageQueue? _nodeChannel;     // Stopwatch timestamp of the oldest probe not yet back, 0 when none is out

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

    /// <summary>
    /// Subscribes to the room's channel, then reads the room's sequence: what was published up to then is not for this node's
    /// members, everything after arrives on the channel (the queue holds it until the handler is attached).
    /// </summary>
    public override async ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken)
    {
        ChannelMessageQueue queue = await RunAsync(redis => redis.GetSubscriber().SubscribeAsync(_keys.Room(roomId)), "subscribe to a room", cancellationToken)
            .ConfigureAwait(false);
        var room = new RoomChannel(roomId, queue);
        try
        {
            (byte[]? epoch, long seq) = await ReadSequenceAsync(roomId, cancellationToken).ConfigureAwait(false);
            room.Sequence.Start(epoch, seq);
        }
        catch
        {
            await queue.UnsubscribeAsync().WaitAsync(_options.PublishTimeout, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        queue.OnMessage(message => OnRoomMessageAsync(room, message));
        _rooms[roomId] = room;
        _metrics.Subscribed();
    }

    public override async ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken)
    {
        if (_rooms.TryRemove(roomId, out RoomChannel? room))
        {
            _metrics.Unsubscribed();
            await room.Queue.UnsubscribeAsync().WaitAsync(_options.PublishTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        byte[] frame = BackplaneCodec.EncodeBroadcast(broadcast);
        string roomId = broadcast.RoomId;
        try
        {
            await RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(PublishScript, [_keys.Sequence(roomId), _keys.Log(roomId), _keys.Members(roomId)],
                [frame, _options.HistorySize, _keys.Room(roomId).ToString(), OrphanSeconds]), "publish a broadcast", cancellationToken).ConfigureAwait(false);
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
        => await RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(AddMemberScript, MemberKeys(roomId),
            [connectionId, NodeId, roomId]), "add a member", cancellationToken).ConfigureAwait(false);

    public override async ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        => await RunAsync(redis => redis.GetDatabase().ScriptEvaluateAsync(RemoveMemberScript, MemberKeys(roomId),
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

    private RedisKey[] MemberKeys(string roomId)
        => [_keys.Members(roomId), _keys.Rooms, _keys.Connections, _keys.NodeMembers(NodeId), _keys.Nodes, _keys.Sequence(roomId), _keys.Log(roomId)];

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
        await SubscribeNodeChannelAsync(redis).ConfigureAwait(false);
        redis.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                // The channels are subscribed again: what was published meanwhile is repaired now, and once more at the next
                // heartbeat, in case a room's subscription came back after this check read its sequence.
                Interlocked.Exchange(ref _checkPending, 1);
                _ = CheckRoomsAsync();
            }
        };
        _heartbeat = HeartbeatAsync(redis);
        return redis;
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
            ChannelMessageQueue node = await redis.GetSubscriber().SubscribeAsync(_keys.Node(NodeId)).WaitAsync(_options.PublishTimeout, _stopping.Token).ConfigureAwait(false);
            node.OnMessage(OnNodeMessage);
            _nodeChannel = node;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.HeartbeatFailed(_logger, ex);
        }
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
                    await SubscribeNodeChannelAsync(redis).ConfigureAwait(false);
                    var beat = (RedisResult[])(await SweepAsync(redis, "beat").WaitAsync(_options.PublishTimeout, _stopping.Token).ConfigureAwait(false))!;
                    var removed = (long)beat[0];
                    if (removed > 0)
                    {
                        Log.DeadNodeSwept(_logger, removed, _options.NodeTimeout);
                    }

                    if ((long)beat[1] == 1)
                    {
                        await ReassertMembersAsync().ConfigureAwait(false); // Redis forgot this node: its data was lost, or it was swept as dead
                    }

                    if (Interlocked.Exchange(ref _checkPending, 0) == 1 && !await CheckRoomsAsync().ConfigureAwait(false))
                    {
                        Interlocked.Exchange(ref _checkPending, 1); // Redis failed a read: again at the next heartbeat
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
