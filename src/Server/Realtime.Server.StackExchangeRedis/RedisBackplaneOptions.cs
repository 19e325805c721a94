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
}
