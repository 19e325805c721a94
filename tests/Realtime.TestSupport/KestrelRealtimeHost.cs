using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Server;
using Realtime.Testing;

namespace Realtime.TestSupport;

/// <summary>
/// The public <see cref="RealtimeTestHost"/> with what the suite adds: logs captured, a probe of server-side connections,
/// timeouts. An Error-level log that the test did not expect (<see cref="ExpectErrors"/>) fails the test when the host is disposed.
/// </summary>
public sealed class KestrelRealtimeHost : IAsyncDisposable
{
    private readonly RealtimeTestHost _host;
    private string[] _expectedErrors = [];

    private KestrelRealtimeHost(RealtimeTestHost host, LogSink logs)
    {
        _host = host;
        Logs = logs;
        Connections = new ServerConnectionProbe(host.Server);
    }

    /// <summary>Every log entry of the app (from Debug up, unless the sink passed in says otherwise).</summary>
    public LogSink Logs { get; }

    /// <summary>Error-level events this test provokes on purpose; any other error log fails it at dispose.</summary>
    public void ExpectErrors(params string[] eventNames) => _expectedErrors = eventNames;

    public int Port => _host.Port;

    /// <summary>The endpoint, <c>ws://127.0.0.1:port/realtime</c>.</summary>
    public string Url => _host.Url.ToString();

    /// <summary>The compatibility endpoint's path (<c>MapJsCollaboration</c>'s default).</summary>
    public const string CollaborationPath = "/collaboration/";

    /// <summary>The compatibility endpoint, <c>ws://127.0.0.1:port/collaboration/</c>.</summary>
    public string CollaborationUrl => $"ws://127.0.0.1:{Port}{CollaborationPath}";

    public RealtimeServer Server => _host.Server;

    /// <summary>Awaits server-side connections (their connect hooks have run).</summary>
    public ServerConnectionProbe Connections { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Starts the app.</summary>
    /// <param name="configureOptions">Options for AddRealtime.</param>
    /// <param name="configureServer">Hooks and middleware; <see langword="null"/> installs the relay (broadcast to the others in the room).</param>
    /// <param name="port">0 for a free port, or a port to reuse (a restart).</param>
    /// <param name="logs">Where to capture logs; <see langword="null"/> for a sink of the host's own (see <see cref="Logs"/>).</param>
    public static async Task<KestrelRealtimeHost> StartAsync(Action<RealtimeOptions>? configureOptions = null, Action<RealtimeServer>? configureServer = null,
                                                             int port = 0, LogSink? logs = null)
    {
        logs ??= new LogSink();
        RealtimeTestHost host = await RealtimeTestHost.StartAppAsync(builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
            builder.Services.AddRealtime(configureOptions);
        }, app =>
        {
            // One server behind both endpoints, as in the runnable host: hooks registered once serve both protocols.
            app.MapRealtime(RealtimeTestHost.DefaultPath, configureServer ?? (server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message))));
            app.MapJsCollaboration(CollaborationPath);
        }, port).DefaultTimeout("Kestrel to start");
        return new KestrelRealtimeHost(host, logs);
    }

    /// <summary>A loopback endpoint where nothing listens (a port that was free a moment ago), and its port.</summary>
    public static async Task<(string Url, int Port)> UnusedEndpointAsync()
    {
        KestrelRealtimeHost host = await StartAsync();
        await host.StopAsync();
        return (host.Url, host.Port);
    }

    /// <summary>Stops the app the way a real shutdown does (connections get 1001), and releases the port.</summary>
    public Task StopAsync() => _host.StopAsync().DefaultTimeout("Kestrel to stop");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Logs.AssertNoUnexpectedErrors(_expectedErrors);
    }
}
