using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Server;
using Realtime.Testing;

namespace Realtime.TestSupport;

/// <summary>How the host serves the Realtime protocol: through <c>MapRealtime</c>, or on a dense listener (<c>ListenOptions.UseRealtime</c>).</summary>
public enum HostMode
{
    /// <summary>An endpoint of the ASP.NET Core pipeline (<c>MapRealtime</c>).</summary>
    Endpoint,

    /// <summary>Kestrel's connection layer, with Realtime's own HTTP/1.1 upgrade (<c>UseRealtime</c>); the compatibility endpoint stays on an HTTP port beside it.</summary>
    Dense,
}

/// <summary>
/// The public <see cref="RealtimeTestHost"/> with what the suite adds: logs captured, a probe of server-side connections,
/// timeouts. An Error-level log that the test did not expect (<see cref="ExpectErrors"/>) fails the test when the host is disposed.
/// </summary>
public sealed class KestrelRealtimeHost : IAsyncDisposable
{
    private readonly RealtimeTestHost _host;
    private string[] _expectedErrors = [];

    private KestrelRealtimeHost(RealtimeTestHost host, LogSink logs, HostMode mode, int port, int httpPort)
    {
        _host = host;
        Logs = logs;
        Mode = mode;
        Port = port;
        HttpPort = httpPort;
        Connections = new ServerConnectionProbe(host.Server);
    }

    /// <summary>How this host serves the Realtime protocol.</summary>
    public HostMode Mode { get; }

    /// <summary>Every log entry of the app (from Debug up, unless the sink passed in says otherwise).</summary>
    public LogSink Logs { get; }

    /// <summary>Error-level events this test provokes on purpose; any other error log fails it at dispose.</summary>
    public void ExpectErrors(params string[] eventNames) => _expectedErrors = eventNames;

    /// <summary>The port the Realtime protocol is served on (the dense listener's, in <see cref="HostMode.Dense"/>).</summary>
    public int Port { get; }

    /// <summary>The port of the ASP.NET Core pipeline: the same as <see cref="Port"/>, except in <see cref="HostMode.Dense"/>.</summary>
    public int HttpPort { get; }

    /// <summary>The endpoint, <c>ws://127.0.0.1:port/realtime</c>.</summary>
    public string Url => $"ws://127.0.0.1:{Port}{RealtimeTestHost.DefaultPath}";

    /// <summary>The compatibility endpoint's path (<c>MapJsCollaboration</c>'s default).</summary>
    public const string CollaborationPath = "/collaboration/";

    /// <summary>The compatibility endpoint, <c>ws://127.0.0.1:port/collaboration/</c>.</summary>
    public string CollaborationUrl => $"ws://127.0.0.1:{HttpPort}{CollaborationPath}";

    public RealtimeServer Server => _host.Server;

    /// <summary>Awaits server-side connections (their connect hooks have run).</summary>
    public ServerConnectionProbe Connections { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Starts the app, with the Realtime protocol on an endpoint.</summary>
    /// <param name="configureOptions">Options for AddRealtime.</param>
    /// <param name="configureServer">Hooks and middleware; <see langword="null"/> installs the relay (broadcast to the others in the room).</param>
    /// <param name="port">0 for a free port, or a port to reuse (a restart).</param>
    /// <param name="logs">Where to capture logs; <see langword="null"/> for a sink of the host's own (see <see cref="Logs"/>).</param>
    public static Task<KestrelRealtimeHost> StartAsync(Action<RealtimeOptions>? configureOptions = null, Action<RealtimeServer>? configureServer = null,
                                                       int port = 0, LogSink? logs = null)
        => StartAsync(HostMode.Endpoint, configureOptions, configureServer, port, logs);

    /// <summary>Starts the app, serving the Realtime protocol as <paramref name="mode"/> says (the other parameters as in the overload without it).</summary>
    public static async Task<KestrelRealtimeHost> StartAsync(HostMode mode, Action<RealtimeOptions>? configureOptions = null, Action<RealtimeServer>? configureServer = null,
                                                             int port = 0, LogSink? logs = null)
    {
        logs ??= new LogSink();
        configureServer ??= server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
        ListenOptions? dense = null;
        ListenOptions? http = null;
        RealtimeTestHost host = await RealtimeTestHost.StartAppAsync(builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
            builder.Services.AddRealtime(configureOptions);
            if (mode == HostMode.Dense)
            {
                builder.WebHost.ConfigureKestrel(k =>
                {
                    k.Listen(IPAddress.Loopback, port, l => (dense = l).UseRealtime(RealtimeTestHost.DefaultPath, configureServer));
                    k.Listen(IPAddress.Loopback, 0, l => http = l);
                });
            }
        }, app =>
        {
            // One server behind every endpoint, as in the runnable host: hooks registered once serve both protocols.
            if (mode == HostMode.Endpoint)
            {
                app.MapRealtime(RealtimeTestHost.DefaultPath, configureServer);
            }

            app.MapJsCollaboration(CollaborationPath);
        }, port).DefaultTimeout("Kestrel to start");
        return mode == HostMode.Dense
            ? new KestrelRealtimeHost(host, logs, mode, ((IPEndPoint)dense!.EndPoint).Port, ((IPEndPoint)http!.EndPoint).Port)
            : new KestrelRealtimeHost(host, logs, mode, host.Port, host.Port);
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
