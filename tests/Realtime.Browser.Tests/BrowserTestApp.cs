using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Server;
using Realtime.Testing;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// A real Kestrel app on 127.0.0.1 for the browser: the Realtime endpoint (relay unless told otherwise), the client
/// script endpoint, and the test harness page at <c>/harness.html</c>. Unexpected error logs fail the test at dispose.
/// </summary>
public sealed class BrowserTestApp : IAsyncDisposable
{
    private readonly RealtimeTestHost _host;

    private BrowserTestApp(RealtimeTestHost host, LogSink logs)
    {
        _host = host;
        Logs = logs;
        Connections = new ServerConnectionProbe(host.Server);
    }

    public LogSink Logs { get; }

    public ServerConnectionProbe Connections { get; }

    public RealtimeServer Server => _host.Server;

    public int Port => _host.Port;

    /// <summary>The page origin, <c>http://127.0.0.1:port</c>.</summary>
    public string Origin => $"http://127.0.0.1:{Port}";

    /// <summary>The Realtime endpoint for the C# client, <c>ws://127.0.0.1:port/realtime</c>.</summary>
    public string RealtimeUrl => _host.Url.ToString();

    /// <summary>Starts the app on 127.0.0.1.</summary>
    /// <param name="configureOptions">The Realtime options, or <see langword="null"/> for the defaults.</param>
    /// <param name="configureServer">Hooks and middleware; <see langword="null"/> installs a relay.</param>
    /// <param name="port">0 for a free port, or a port to reuse (a restart on the same address).</param>
    /// <param name="mapEndpoints">More endpoints beside the Realtime one (a scripted stand-in server), or <see langword="null"/>.</param>
    public static async Task<BrowserTestApp> StartAsync(Action<RealtimeOptions>? configureOptions = null, Action<RealtimeServer>? configureServer = null, int port = 0,
                                                        Action<WebApplication>? mapEndpoints = null)
    {
        var logs = new LogSink();
        string harness = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "harness.html"));
        RealtimeTestHost host = await RealtimeTestHost.StartAppAsync(
            builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
                builder.Services.AddRealtime(configureOptions);
            },
            app =>
            {
                app.MapRealtime(RealtimeTestHost.DefaultPath, configureServer ?? (server => server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message))));
                app.MapRealtimeClientScript();
                app.MapGet("/harness.html", () => Results.Content(harness, "text/html; charset=utf-8"));
                mapEndpoints?.Invoke(app);
            },
            port).DefaultTimeout("Kestrel to start");
        return new BrowserTestApp(host, logs);
    }

    public Task StopAsync() => _host.StopAsync().DefaultTimeout("Kestrel to stop");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Logs.AssertNoUnexpectedErrors();
    }
}
