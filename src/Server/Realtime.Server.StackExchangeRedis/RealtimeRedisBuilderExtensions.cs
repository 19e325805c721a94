using Microsoft.Extensions.DependencyInjection.Extensions;
using Realtime.Server;
using Realtime.Server.StackExchangeRedis;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis backplane to Realtime.</summary>
public static class RealtimeRedisBuilderExtensions
{
    /// <summary>
    /// Shares the app's rooms with every other node connected to the same Redis (and the same <see cref="RedisBackplaneOptions.Prefix"/>):
    /// a broadcast reaches every member of its room on every node, and membership and sends by connection id are cluster-wide.
    /// See docs/scale-out.md.
    /// </summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, for example <c>localhost:6379</c>.</param>
    /// <param name="configure">Sets the backplane's options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example><code>builder.Services.AddRealtime().AddStackExchangeRedis("localhost:6379", o => o.Prefix = "chat");</code></example>
    public static IRealtimeBuilder AddStackExchangeRedis(this IRealtimeBuilder builder, string configuration, Action<RedisBackplaneOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return builder.AddStackExchangeRedis(ConfigurationOptions.Parse(configuration), configure);
    }

    /// <summary>Shares the app's rooms over Redis with the default <see cref="RedisBackplaneOptions"/>.</summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, for example <c>localhost:6379</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IRealtimeBuilder AddStackExchangeRedis(this IRealtimeBuilder builder, string configuration) => builder.AddStackExchangeRedis(configuration, null);

    /// <summary>Shares the app's rooms over Redis, configured with StackExchange.Redis <see cref="ConfigurationOptions"/>.</summary>
    /// <param name="builder">What <c>AddRealtime</c> returned.</param>
    /// <param name="configuration">The Redis connection's configuration. <c>AbortOnConnectFail</c> is turned off (the backplane reconnects by itself) and the <c>BacklogPolicy</c> is <c>FailFast</c> (a command is not held while the link is down: a broadcast that failed is never delivered later).</param>
    /// <param name="configure">Sets the backplane's options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IRealtimeBuilder AddStackExchangeRedis(this IRealtimeBuilder builder, ConfigurationOptions configuration, Action<RedisBackplaneOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new RedisBackplaneOptions();
        configure?.Invoke(options);
        RedisKeys.Validate(options);
        ConfigurationOptions redis = ForBackplane(configuration);
        builder.Services.RemoveAll<RealtimeBackplane>();
        builder.Services.AddSingleton<RealtimeBackplane>(sp => new RedisBackplane(redis, options, sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetService<Microsoft.Extensions.Options.IOptions<RealtimeOptions>>()?.Value.Recovery));

        // Degraded (not unhealthy: the node still serves its own connections) while Redis or the subscriber link is down.
        builder.Services.AddHealthChecks().AddCheck<RedisBackplaneHealthCheck>("realtime-redis", Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded);
        return builder;
    }

    /// <summary>A copy of <paramref name="configuration"/> as the backplane needs it.</summary>
    internal static ConfigurationOptions ForBackplane(ConfigurationOptions configuration)
    {
        ConfigurationOptions redis = configuration.Clone();
        redis.AbortOnConnectFail = false;

        // A command is never held back while the link is down, to be sent after the caller was told it failed: a broadcast that
        // threw is not delivered later.
        redis.BacklogPolicy = BacklogPolicy.FailFast;
        return redis;
    }
}
