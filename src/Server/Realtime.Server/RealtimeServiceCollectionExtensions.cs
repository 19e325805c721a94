using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Server;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Realtime server.</summary>
public static class RealtimeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Realtime server: <see cref="RealtimeServer"/> as a singleton and <see cref="RealtimeOptions"/>,
    /// validated when the application starts. Services are registered with <c>TryAdd</c>, so add-ons can replace them.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets options in code; configuration binding (for example <c>AddOptions&lt;RealtimeOptions&gt;().BindConfiguration("Realtime")</c>) composes with it.</param>
    /// <returns>A builder to chain add-ons on.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddRealtime(o => o.PingInterval = TimeSpan.FromSeconds(10));
    /// app.MapRealtime("/realtime", server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
    /// </code>
    /// </example>
    public static IRealtimeBuilder AddRealtime(this IServiceCollection services, Action<RealtimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<RealtimeOptions> options = services.AddOptions<RealtimeOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RealtimeMetrics>();
        services.TryAddSingleton<RealtimeBackplane, InMemoryBackplane>();
        services.TryAddSingleton(sp => new HeartbeatTimer(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<RealtimeOptions>>().Value));
        services.TryAddSingleton(sp => new RealtimeServer(
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value,
            sp.GetRequiredService<RealtimeBackplane>(),
            sp.GetRequiredService<HeartbeatTimer>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<RealtimeMetrics>()) { Services = sp });
        return new RealtimeBuilder(services);
    }

    private sealed class RealtimeBuilder(IServiceCollection services) : IRealtimeBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
