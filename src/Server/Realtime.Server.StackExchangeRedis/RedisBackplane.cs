using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// The backplane on Redis: the seam's calls handed to one part per job, over one <see cref="RedisLink"/>.
/// <list type="bullet">
/// <item><see cref="RedisPublisher"/>: every room broadcast, local members included, is one script that numbers it in the room's
/// sequence, keeps it in the room's bounded log and publishes it, or does nothing when it reached Redis after its caller gave up.</item>
/// <item><see cref="RedisRoomChannels"/>: a node subscribes to a room's channel only while it has members there (acknowledged before
/// a joining connection's <c>welcome</c>), and delivers what arrives in sequence order, repairing a gap from the log or reporting it.</item>
/// <item><see cref="RedisMembership"/>: membership and the connection directory, written by scripts; sends and closes by id go to the
/// owning node's channel.</item>
/// <item><see cref="RedisNodeLiveness"/>: the heartbeat, the sweep of dead nodes (whose memberships it reports to the features), the
/// node's own channel, and health.</item>
/// <item><see cref="RedisMemberStates"/>: features' member states, one hash per room.</item>
/// <item><see cref="RedisRecovery"/>: recovery across the cluster: a room's history read from its log, resume claims, and the secret
/// that signs resume tokens. Which rooms keep a history (<see cref="HistoryRooms"/>) also sets how long their log is, that their
/// broadcasts are delivered with positions, and that their sequence and log outlive their last member.</item>
/// </list>
/// </summary>
internal sealed class RedisBackplane : RealtimeBackplane, IRedisLocalNode, IAsyncDisposable
{
    /// <summary>The type of the message that tells a room's members they missed broadcasts.</summary>
    public const string GapMessageType = RedisRoomChannels.GapMessageType;

    private readonly RedisLink _link;
    private readonly RedisPublisher _publisher;
    private readonly RedisRoomChannels _rooms;
    private readonly RedisMembership _membership;
    private readonly RedisNodeLiveness _liveness;
    private readonly RedisMemberStates _states;
    private readonly RedisRecovery _recovery;

    /// <param name="configuration">The Redis connection's configuration (adjusted by <c>ForBackplane</c>).</param>
    /// <param name="options">The backplane's options.</param>
    /// <param name="loggerFactory">Where to log, or <see langword="null"/>.</param>
    /// <param name="meterFactory">Where to record metrics, or <see langword="null"/>.</param>
    /// <param name="recovery">The server's recovery options (<see cref="RealtimeOptions.Recovery"/>), or <see langword="null"/> for recovery off.</param>
    public RedisBackplane(ConfigurationOptions configuration, RedisBackplaneOptions options, ILoggerFactory? loggerFactory = null,
                          System.Diagnostics.Metrics.IMeterFactory? meterFactory = null, RecoveryOptions? recovery = null)
        : base(options.NodeId)
    {
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Realtime.Server.StackExchangeRedis");
        var keys = new RedisKeys(options.Prefix);
        var history = new HistoryRooms(recovery);
        var clock = new RedisClock();
        var metrics = new RedisBackplaneMetrics(meterFactory, () => _liveness!.Nodes);
        _link = new RedisLink(configuration, options.PublishTimeout, redis => _liveness!.StartAsync(redis), restored =>
        {
            if (restored == ConnectionType.Subscription)
            {
                _rooms!.OnSubscriberRestored(); // what was published meanwhile is repaired
            }
            else
            {
                clock.Forget(); // perhaps another server now (a failover): its clock is read again before the next publish
            }
        });
        _publisher = new RedisPublisher(_link, keys, clock, options, history, metrics, logger);
        _rooms = new RedisRoomChannels(_link, keys, options, history, metrics, DeliverLocally, HistoryStarts, NodeId, logger);
        _membership = new RedisMembership(_link, keys, history, NodeId);
        _states = new RedisMemberStates(_link, keys, NodeId);
        _recovery = new RedisRecovery(_link, keys, logger);
        _liveness = new RedisNodeLiveness(_link, keys, options, history, clock, _membership, _rooms, this, NodeId, logger);
    }

    IReadOnlyCollection<string> IRedisLocalNode.Rooms => LocalRooms;

    public override ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken) => _rooms.SubscribeAsync(roomId, cancellationToken);

    public override ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken) => _rooms.UnsubscribeAsync(roomId, cancellationToken);

    public override ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        return _publisher.PublishAsync(broadcast, cancellationToken);
    }

    public override ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken)
        => SendLocally(connectionId, message)
            ? ValueTask.FromResult(true)
            : _membership.ToOwnerAsync(connectionId, BackplaneCodec.EncodeSend(connectionId, message), cancellationToken);

    public override ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken)
        => CloseLocally(connectionId)
            ? ValueTask.FromResult(true)
            : _membership.ToOwnerAsync(connectionId, BackplaneCodec.EncodeClose(connectionId), cancellationToken);

    public override ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        => _membership.AddAsync(roomId, connectionId, cancellationToken);

    public override ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken)
        => _membership.RemoveAsync(roomId, connectionId, cancellationToken);

    public override ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken) => _membership.GetRoomsAsync(cancellationToken);

    public override ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken)
        => _membership.GetConnectionIdsAsync(roomId, cancellationToken);

    public override ValueTask<int> GetRoomConnectionCountAsync(string roomId, CancellationToken cancellationToken)
        => _membership.GetRoomConnectionCountAsync(roomId, cancellationToken);

    public override ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken) => _membership.GetConnectionCountAsync(cancellationToken);

    public override ValueTask<IReadOnlyList<RealtimeNodeStatus>> GetNodesAsync(CancellationToken cancellationToken) => _membership.GetNodesAsync(cancellationToken);

    /// <summary>What keeps the backplane from working, for the health check; <see langword="null"/> when nothing does.</summary>
    public Task<string?> ProblemAsync(CancellationToken cancellationToken) => _liveness.ProblemAsync(cancellationToken);

    /// <summary>A graceful stop: the heartbeat ends and this node's remaining memberships leave the cluster at once.</summary>
    public async ValueTask DisposeAsync()
    {
        await _liveness.StopAsync().ConfigureAwait(false);
        await _link.DisposeAsync().ConfigureAwait(false);
    }

    IReadOnlyCollection<string> IRedisLocalNode.MemberIds(string roomId) => GetLocalConnectionIds(roomId);

    bool IRedisLocalNode.Send(string connectionId, Message message) => SendLocally(connectionId, message);

    bool IRedisLocalNode.Close(string connectionId) => CloseLocally(connectionId);

    (int Connections, int Rooms) IRedisLocalNode.Counts => (LocalConnectionCount, LocalRoomCount);

    void IRedisLocalNode.MembersLost(string roomId, IReadOnlyCollection<string> connectionIds) => MembersLost(roomId, connectionIds);

    public override ValueTask<MemberStateChange> SetMemberStateAsync(string roomId, string feature, string connectionId, ReadOnlyMemory<byte> state, int maxEntries,
                                                                     CancellationToken cancellationToken)
        => _states.SetAsync(roomId, feature, connectionId, state, maxEntries, cancellationToken);

    public override ValueTask<bool> RemoveMemberStateAsync(string roomId, string feature, string connectionId, CancellationToken cancellationToken)
        => _states.RemoveAsync(roomId, feature, connectionId, cancellationToken);

    public override ValueTask<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> GetMemberStatesAsync(string roomId, string feature, CancellationToken cancellationToken)
        => _states.GetAsync(roomId, feature, cancellationToken);

    public override ValueTask<IReadOnlyList<RoomBroadcast>?> ReadHistoryAsync(string roomId, RoomPosition after, int maxMessages, TimeSpan maxAge,
                                                                             CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return _recovery.ReadHistoryAsync(roomId, after, maxMessages, maxAge, cancellationToken);
    }

    public override ValueTask<ResumeClaim> ClaimResumeAsync(string connectionId, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return _recovery.ClaimAsync(connectionId, window, cancellationToken);
    }

    public override ValueTask ConnectionEndedAsync(string connectionId, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return _recovery.EndedAsync(connectionId, window, cancellationToken);
    }

    public override ValueTask<ReadOnlyMemory<byte>> GetResumeKeyAsync(CancellationToken cancellationToken) => _recovery.GetKeyAsync(cancellationToken);
}
