using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>Every Redis key and channel of one app (its <see cref="RedisBackplaneOptions.Prefix"/>); names are taken literally.</summary>
internal sealed class RedisKeys(string prefix)
{
    /// <summary>The set of rooms with members on any node.</summary>
    public RedisKey Rooms { get; } = prefix + ":rooms";

    /// <summary>The hash of every connection in the cluster: connection id → node id.</summary>
    public RedisKey Connections { get; } = prefix + ":c";

    /// <summary>A room's broadcasts.</summary>
    public RedisChannel Room(string roomId) => RedisChannel.Literal(prefix + ":r:" + roomId);

    /// <summary>A room's members: connection id → node id.</summary>
    public RedisKey Members(string roomId) => prefix + ":r:" + roomId + ":m";

    /// <summary>Messages for the connections of one node (sends and closes by id).</summary>
    public RedisChannel Node(string nodeId) => RedisChannel.Literal(prefix + ":n:" + nodeId);

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
    }
}
