namespace Realtime.Server.StackExchangeRedis;

/// <summary>Options of the Redis backplane (<c>AddStackExchangeRedis</c>).</summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>
    /// The start of every Redis key and channel the backplane uses. Apps that share one Redis must use different prefixes: they
    /// then never see each other's rooms, members or traffic. Default <c>realtime</c>.
    /// </summary>
    public string Prefix { get; set; } = "realtime";

    /// <summary>This node's id in the cluster; <see langword="null"/> (the default) for a new random one at every start.</summary>
    public string? NodeId { get; set; }

    /// <summary>How long a publish or a query may take before it fails with a <see cref="RedisBackplaneException"/>. Default 5 s.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often this node records that it is alive (and checks whether another node has stopped doing so). Default 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a node may go without a heartbeat before the others remove its members from the cluster's membership (a node that
    /// died without a goodbye). At least twice <see cref="HeartbeatInterval"/>. Default 10 s.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many of a room's last broadcasts Redis keeps (at least) so that a node whose link to Redis broke can deliver what it
    /// missed, in order; a longer gap, or one the log cannot fill, is reported to the room's members as a <c>realtime.gap</c>
    /// message. 0 keeps no log: every gap is reported. Redis memory is about rooms × this × the average message size. Default 100.
    /// A room that keeps a history for recovery (<see cref="RealtimeOptions.Recovery"/>) keeps at least
    /// <see cref="RecoveryOptions.MaxMessages"/>, so that a client that reconnects on another node recovers from the log.
    /// </summary>
    public int HistorySize { get; set; } = 100;
}
