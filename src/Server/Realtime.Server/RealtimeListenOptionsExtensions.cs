using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Realtime.Server;
using Realtime.Server.Internal.Dense;
using Realtime.Server.Internal.Protocols;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Serves Realtime directly on a Kestrel listener (dense mode), in protocol v1 or the compatibility protocol.</summary>
public static class RealtimeListenOptionsExtensions
{
    /// <summary>
    /// Serves Realtime's protocol on this Kestrel listener without the HTTP pipeline: the listener reads each connection's WebSocket
    /// upgrade itself (HTTP/1.1 only, strictly) and keeps nothing of HTTP once it is upgraded, so an idle connection costs far less
    /// memory than through <c>MapRealtime</c>. The connections are served by the same <see cref="RealtimeServer"/> as every endpoint:
    /// the same hooks, middleware, rooms, limits, backplane and frames. There is no endpoint routing, ASP.NET authorization or CORS
    /// here: authorize in connect middleware. TLS: call <c>UseHttps()</c> on the listener first. See docs/server.md.
    /// </summary>
    /// <param name="listen">The listener, in <c>ConfigureKestrel(k => k.ListenAnyIP(5001, l => l.UseRealtime()))</c>.</param>
    /// <param name="path">The only path served; any other gets 404. Default <c>/realtime</c>.</param>
    /// <param name="configure">Registers hooks and middleware on the <see cref="RealtimeServer"/> (the one every endpoint shares).</param>
    /// <returns>The listener, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>AddRealtime</c> was not called.</exception>
    public static ListenOptions UseRealtime(this ListenOptions listen, string path = "/realtime", Action<RealtimeServer>? configure = null)
        => Use(listen, path, configure, nameof(UseRealtime), static server => server.ProtocolV1);

    /// <summary>
    /// Serves the original JavaScript collaboration framework's wire format (Engine.IO v4 and Socket.IO v5 over WebSocket, as
    /// <c>MapJsCollaboration</c> does) on this Kestrel listener without the HTTP pipeline, as <see cref="UseRealtime"/> serves protocol
    /// v1: the listener reads each Engine.IO WebSocket upgrade (<c>GET /collaboration/?EIO=4&amp;transport=websocket&amp;id=…&amp;roomId=…</c>)
    /// itself and keeps nothing of HTTP once it is upgraded. The connections are served by the same <see cref="RealtimeServer"/> as
    /// every endpoint and listener, so a room may mix its clients with protocol v1 clients. The same limits apply as for
    /// <see cref="UseRealtime"/>: one path, HTTP/1.1 only, no ASP.NET authorization or CORS (authorize in connect middleware), and
    /// no Engine.IO long-polling (the original client never uses it). See docs/js-collaboration.md.
    /// </summary>
    /// <param name="listen">The listener, in <c>ConfigureKestrel(k => k.ListenAnyIP(5002, l => l.UseJsCollaboration()))</c>.</param>
    /// <param name="path">The only path served, exactly as the client sends it (its <c>path</c> option, with the trailing slash
    /// socket.io-client adds); any other gets 404. Default <c>/collaboration/</c>, the original's default.</param>
    /// <param name="configure">Registers hooks and middleware on the <see cref="RealtimeServer"/> (the one every endpoint shares).</param>
    /// <returns>The listener, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>AddRealtime</c> was not called.</exception>
    /// <example>
    /// <code>
    /// builder.WebHost.ConfigureKestrel(k =>
    /// {
    ///     k.ListenAnyIP(5000);                                  // MapRealtime, MapJsCollaboration and the rest of the app
    ///     k.ListenAnyIP(5001, l => l.UseRealtime());            // protocol v1, dense
    ///     k.ListenAnyIP(5002, l => l.UseJsCollaboration());     // the original's clients, dense: path "/collaboration/" on port 5002
    /// });
    /// </code>
    /// </example>
    public static ListenOptions UseJsCollaboration(this ListenOptions listen, string path = "/collaboration/", Action<RealtimeServer>? configure = null)
        => Use(listen, path, configure, nameof(UseJsCollaboration), static server => server.JsCollaboration);

    private static ListenOptions Use(ListenOptions listen, string path, Action<RealtimeServer>? configure, string method, Func<RealtimeServer, RealtimeProtocol> protocolOf)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(path);
        IServiceProvider services = listen.ApplicationServices;
        RealtimeServer server = services.GetService<RealtimeServer>()
            ?? throw new InvalidOperationException($"Unable to find the Realtime services. Call 'builder.Services.AddRealtime()' when configuring services, before '{method}'.");
        configure?.Invoke(server);
        server.Shutdown.StopWith(services.GetRequiredService<IHostApplicationLifetime>());
        RealtimeProtocol protocol = protocolOf(server);
        listen.Use(_ => connection => DenseConnection.RunAsync(connection, server, protocol, path));
        return listen;
    }
}
