using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Server;

namespace Realtime.Testing;

/// <summary>A Realtime app on real Kestrel at 127.0.0.1 (port 0 picks a free port), for tests that need real TCP.</summary>
public sealed class KestrelRealtimeHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _stopped;

    private KestrelRealtimeHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
        Server = app.Services.GetRequiredService<RealtimeServer>();
        Connections = new ServerConnectionProbe(Server);
    }

    public int Port { get; }

    /// <summary>The endpoint, <c>ws://127.0.0.1:port/realtime</c>.</summary>
    public string Url => $"ws://127.0.0.1:{Port}/realtime";

    public RealtimeServer Server { get; }

    /// <summary>Awaits server-side connections (their connect hooks have run).</summary>
    public ServerConnectionProbe Connections { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the app.</summary>
    /// <param name="configureOptions">Options for AddRealtime.</param>
    /// <param name="configureServer">Hooks and middleware; <see langword="null"/> installs the relay (broadcast to the others in the room).</param>
    /// <param name="port">0 for a free port, or a port to reuse (a restart).</param>
    /// <param name="logs">Where to capture logs.</param>
    public static async Task<KestrelRealtimeHost> StartAsync(Action<RealtimeOptions>? configureOptions = null, Action<RealtimeServer>? configureServer = null,
                                                             int port = 0, LogSink? logs = null)
    {
        (WebApplication app, int boundPort) = await LoopbackApp.StartAsync(
            builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Debug);
                if (logs is not null)
                {
                    builder.Logging.AddProvider(logs);
                }

                builder.Services.AddRealtime(configureOptions);
            },
            app => app.MapRealtime("/realtime", configureServer ?? (server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)))),
            port);
        return new KestrelRealtimeHost(app, boundPort);
    }

    /// <summary>A loopback endpoint where nothing listens (a port that was free a moment ago), and its port.</summary>
    public static async Task<(string Url, int Port)> UnusedEndpointAsync()
    {
        KestrelRealtimeHost host = await StartAsync();
        await host.StopAsync();
        return (host.Url, host.Port);
    }

    /// <summary>Stops the app the way a real shutdown does (connections get 1001), and releases the port.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _app.StopAsync().DefaultTimeout("Kestrel to stop");
            await _app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
