using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Realtime.Server;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Realtime endpoint.</summary>
public static class RealtimeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the Realtime WebSocket endpoint at <paramref name="pattern"/> and configures the server's hooks and
    /// middleware. WebSockets are enabled on this endpoint itself (calling <c>UseWebSockets</c> is not needed, and
    /// harmless). Endpoint conventions compose: <c>RequireAuthorization</c>, <c>RequireCors</c>, rate limiting.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The route, for example <c>/realtime</c>.</param>
    /// <param name="configure">Registers hooks and middleware on the <see cref="RealtimeServer"/>.</param>
    /// <returns>The endpoint's convention builder.</returns>
    /// <exception cref="InvalidOperationException"><c>AddRealtime</c> was not called.</exception>
    /// <example>
    /// <code>
    /// app.MapRealtime("/realtime", server =>
    /// {
    ///     server.Use(ServerEvents.Connect, async (ctx, next) => { /* check ctx.Connection.Auth */ await next(); });
    ///     server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));
    /// }).RequireAuthorization();
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapRealtime(this IEndpointRouteBuilder endpoints, string pattern, Action<RealtimeServer>? configure = null)
        => Map(endpoints, pattern, configure, nameof(MapRealtime), static server => server.ProtocolV1, "Realtime ");

    /// <summary>
    /// Maps an endpoint that speaks the wire format of the original JavaScript collaboration framework (Engine.IO v4 and Socket.IO v5
    /// over WebSocket, its <c>m</c> message event), so that framework's existing clients connect with only their URL changed:
    /// <c>new Client("wss://your-app", { path: "/collaboration/" })</c>. Its connections are served by the same
    /// <see cref="RealtimeServer"/> as <see cref="MapRealtime"/>'s: the same hooks, middleware, rooms, limits and backplane, and a room
    /// may mix clients of both. The connection id is the one the client chooses (see docs/security.md); docs/js-collaboration.md is
    /// the migration guide.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The route: the client's <c>path</c> option. Default <c>/collaboration/</c>, the original's default.</param>
    /// <param name="configure">Registers hooks and middleware on the <see cref="RealtimeServer"/> (the same one every endpoint shares).</param>
    /// <returns>The endpoint's convention builder.</returns>
    /// <exception cref="InvalidOperationException"><c>AddRealtime</c> was not called.</exception>
    /// <example>
    /// <code>
    /// app.MapRealtime("/realtime");
    /// app.MapJsCollaboration("/collaboration/", server =>
    ///     server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message)));
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapJsCollaboration(this IEndpointRouteBuilder endpoints, string pattern = "/collaboration/", Action<RealtimeServer>? configure = null)
        => Map(endpoints, pattern, configure, nameof(MapJsCollaboration), static server => server.JsCollaboration, "Realtime JS collaboration ");

    private static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints, string pattern, Action<RealtimeServer>? configure, string method,
                                                  Func<RealtimeServer, RealtimeProtocol> protocolOf, string displayName)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        RealtimeServer server = endpoints.ServiceProvider.GetService<RealtimeServer>()
            ?? throw new InvalidOperationException(
                $"Unable to find the Realtime services. Call 'builder.Services.AddRealtime()' when configuring services, before '{method}'.");

        configure?.Invoke(server);
        server.Shutdown.StopWith(endpoints.ServiceProvider.GetRequiredService<IHostApplicationLifetime>());

        RealtimeProtocol protocol = protocolOf(server);
        IApplicationBuilder app = endpoints.CreateApplicationBuilder();
        app.Use((context, next) =>
        {
            GracefulUpgradeFeature.Install(context);
            return next(context);
        });
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(context => RealtimeEndpointHandler.HandleAsync(context, server, protocol));
        return endpoints.Map(pattern, app.Build()).WithDisplayName(displayName + pattern);
    }

    /// <summary>
    /// Serves the browser client (an ES module with no dependencies) at <paramref name="pattern"/>, so a page can
    /// <c>import { Client } from "/realtime/client.js"</c> without a bundler. The script is embedded in this assembly and
    /// always matches the server's protocol; it is served with an ETag and <c>Cache-Control: public, no-cache</c>
    /// (browsers revalidate and get 304 while it is unchanged). Opt-in: nothing is served unless this is called.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The script's route. Default <c>/realtime/client.js</c>.</param>
    /// <returns>The endpoint's convention builder (for example to add <c>RequireCors</c>).</returns>
    /// <example>
    /// <code>
    /// app.MapRealtime("/realtime");
    /// app.MapRealtimeClientScript();   // GET /realtime/client.js
    /// </code>
    /// </example>
    public static IEndpointConventionBuilder MapRealtimeClientScript(this IEndpointRouteBuilder endpoints, string pattern = "/realtime/client.js")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        return endpoints.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Head], ClientScript.ServeAsync).WithDisplayName("Realtime client script " + pattern);
    }
}
