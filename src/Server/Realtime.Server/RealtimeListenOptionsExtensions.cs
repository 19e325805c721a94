using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Realtime.Server;
using Realtime.Server.Internal.Dense;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Serves Realtime directly on a Kestrel listener (dense mode).</summary>
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
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(path);
        IServiceProvider services = listen.ApplicationServices;
        RealtimeServer server = services.GetService<RealtimeServer>()
            ?? throw new InvalidOperationException("Unable to find the Realtime services. Call 'builder.Services.AddRealtime()' when configuring services, before 'UseRealtime'.");
        configure?.Invoke(server);
        server.Shutdown.StopWith(services.GetRequiredService<IHostApplicationLifetime>());
        listen.Use(_ => connection => DenseConnection.RunAsync(connection, server, server.ProtocolV1, path));
        return listen;
    }
}
