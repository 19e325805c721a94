using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>Every Redis key and channel of one app (its <see cref="RedisBackplaneOptions.Prefix"/>); names are taken literally.</summary>
internal sealed class RedisKeys(string prefix)
{
    /// <summary>The set of rooms with members on any node.</summary>
    public RedisKey Rooms { get; } = prefix + ":rooms";

    /// <summary>The hash of every connection in the cluster: connection id → node id.</summary>
    public RedisKey Connections { get; } = prefix + ":c";

    /// <summary>The key prefix, for scripts that build a dead node's keys themselves.</summary>
    public string Prefix { get; } = prefix;

    /// <summary>The live nodes: node id → the Redis time (ms) of its last heartbeat.</summary>
    public RedisKey Nodes { get; } = prefix + ":nodes";

    /// <summary>The live nodes' counts, written with each heartbeat: node id → <c>"connections rooms"</c>.</summary>
    public RedisKey NodeCounts { get; } = prefix + ":nodes:counts";

    /// <summary>A node's memberships (<c>room \x1f connection</c>), so the others can remove them when it dies.</summary>
    public RedisKey NodeMembers(string nodeId) => Prefix + ":n:" + nodeId + ":m";

    /// <summary>A room's broadcasts.</summary>
    public RedisChannel Room(string roomId) => RedisChannel.Literal(Prefix + ":r:" + roomId);

    /// <summary>A room's members: connection id → node id.</summary>
    public RedisKey Members(string roomId) => Prefix + ":r:" + roomId + ":m";

    /// <summary>A room's sequence: its epoch (<c>e</c>) and the number of its last broadcast (<c>s</c>).</summary>
    public RedisKey Sequence(string roomId) => Prefix + ":r:" + roomId + ":s";

    /// <summary>Features' member states in a room: <c>feature \x1f connection</c> → state.</summary>
    public RedisKey States(string roomId) => Prefix + ":r:" + roomId + ":st";

    /// <summary>A room's last broadcasts, for repair: a stream whose entry ids are the sequence numbers.</summary>
    public RedisKey Log(string roomId) => Prefix + ":r:" + roomId + ":l";

    /// <summary>The secret that signs resume tokens, shared by every node (32 random bytes, set by the first node that needs it).</summary>
    public RedisKey ResumeKey { get; } = prefix + ":resume-key";

    /// <summary>A former connection's resume claim: <c>e</c> (ended, may be resumed) or <c>c</c> (claimed), expiring with its window.</summary>
    public RedisKey ResumeClaim(string connectionId) => Prefix + ":rs:" + connectionId;

    /// <summary>Messages for the connections of one node (sends and closes by id).</summary>
    public RedisChannel Node(string nodeId) => RedisChannel.Literal(Prefix + ":n:" + nodeId);

    public static void Validate(RedisBackplaneOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Prefix))
        {
            throw new ArgumentException("RedisBackplaneOptions.Prefix must not be empty: apps that share a Redis are told apart by it.", nameof(options));
        }

        if (options.PublishTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("RedisBackplaneOptions.PublishTimeout must be positive.", nameof(options));
        }

        if (options.HistorySize < 0)
        {
            throw new ArgumentException("RedisBackplaneOptions.HistorySize must not be negative.", nameof(options));
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.NodeTimeout < options.HeartbeatInterval * 2)
        {
            throw new ArgumentException("RedisBackplaneOptions.HeartbeatInterval must be positive and NodeTimeout at least twice as long.", nameof(options));
        }
    }
}
