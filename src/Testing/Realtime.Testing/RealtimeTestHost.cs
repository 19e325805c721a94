using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Server;

namespace Realtime.Testing;

/// <summary>
/// Runs an ASP.NET Core app with Realtime on real Kestrel at 127.0.0.1, on a free port (or a given one, to restart on
/// the same address): real TCP, real WebSockets, real timing, for tests that an in-memory test server cannot do.
/// </summary>
/// <example><code>
/// await using var host = await RealtimeTestHost.StartAsync(server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
/// await using var client = new Client(host.Url.ToString());
/// </code></example>
public sealed class RealtimeTestHost : IAsyncDisposable
{
    /// <summary>The path <see cref="StartAsync"/> maps the Realtime endpoint to.</summary>
    public const string DefaultPath = "/realtime";

    private int _stopped;

    private RealtimeTestHost(WebApplication app, int port)
    {
        App = app;
        Port = port;
        Url = new Uri($"ws://127.0.0.1:{port}{DefaultPath}");
    }

    /// <summary>The running app.</summary>
    public WebApplication App { get; }

    /// <summary>The app's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The Realtime endpoint of <see cref="StartAsync"/>: <c>ws://127.0.0.1:port/realtime</c>.</summary>
    public Uri Url { get; }

    /// <summary>The app's services.</summary>
    public IServiceProvider Services => App.Services;

    /// <summary>The app's Realtime server (the app must have called <c>AddRealtime</c>).</summary>
    public RealtimeServer Server => App.Services.GetRequiredService<RealtimeServer>();

    /// <summary>Starts an app with Realtime at <see cref="DefaultPath"/>.</summary>
    /// <param name="configureServer">Hooks and middleware; <see langword="null"/> installs a relay (every message is broadcast to the rest of its room).</param>
    /// <param name="configureOptions">The Realtime options, or <see langword="null"/> for the defaults.</param>
    /// <param name="configureBuilder">Anything else the app needs (logging, authentication, services), or <see langword="null"/>.</param>
    /// <param name="port">0 for a free port, or a port to reuse (a restart on the same address).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started host.</returns>
    public static Task<RealtimeTestHost> StartAsync(Action<RealtimeServer>? configureServer = null, Action<RealtimeOptions>? configureOptions = null,
                                                   Action<WebApplicationBuilder>? configureBuilder = null, int port = 0, CancellationToken cancellationToken = default)
        => StartAppAsync(
            builder =>
            {
                configureBuilder?.Invoke(builder);
                builder.Services.AddRealtime(configureOptions);
            },
            app => app.MapRealtime(DefaultPath, configureServer ?? (server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)))),
            port,
            cancellationToken);

    /// <summary>Starts an app of your own making (for example your real app's configuration) on 127.0.0.1.</summary>
    /// <param name="configureBuilder">Configures the builder: services, logging, configuration. Logging providers start cleared.</param>
    /// <param name="configureApp">Configures the app: middleware and endpoints, <c>MapRealtime</c> among them.</param>
    /// <param name="port">0 for a free port, or a port to reuse.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started host (its <see cref="Url"/> assumes the endpoint is at <see cref="DefaultPath"/>).</returns>
    public static async Task<RealtimeTestHost> StartAppAsync(Action<WebApplicationBuilder> configureBuilder, Action<WebApplication> configureApp,
                                                            int port = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configureBuilder);
        ArgumentNullException.ThrowIfNull(configureApp);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        configureBuilder(builder);
        WebApplication app = builder.Build();
        try
        {
            configureApp(app);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RealtimeTestHost(app, new Uri(address).Port);
    }

    /// <summary>Stops the app as a real shutdown does (Realtime closes its connections with 1001) and releases the port. Later calls do nothing.</summary>
    /// <param name="cancellationToken">Ends the graceful part of the shutdown early.</param>
    /// <returns>A task that completes when the app has stopped and the port is free.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await App.StopAsync(cancellationToken).ConfigureAwait(false);
            await App.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops the app (see <see cref="StopAsync"/>).</summary>
    /// <returns>A task that completes when the app has stopped.</returns>
    public ValueTask DisposeAsync() => new(StopAsync());
}
