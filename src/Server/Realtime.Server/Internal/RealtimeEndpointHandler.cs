using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal;

/// <summary>The HTTP side of the endpoint: refuses what is not an acceptable WebSocket upgrade (the protocol decides its own rules), accepts the rest and runs the connection.</summary>
internal static class RealtimeEndpointHandler
{
    public static async Task HandleAsync(HttpContext context, RealtimeServer server, RealtimeProtocol protocol)
    {
        if (server.IsStopping)
        {
            await RefuseAsync(context, server, StatusCodes.Status503ServiceUnavailable, "The server is shutting down; reconnect to another node or later.").ConfigureAwait(false);
            return;
        }

        if (!protocol.TryReadUpgrade(context, out UpgradeRequest upgrade, out HttpRefusal refusal))
        {
            await RefuseAsync(context, server, refusal).ConfigureAwait(false);
            return;
        }

        if (!IsOriginAllowed(context, server.Options))
        {
            await RefuseAsync(context, server, StatusCodes.Status403Forbidden, "This origin is not allowed to connect (Realtime:AllowedOrigins).").ConfigureAwait(false);
            return;
        }

        (ConnectionLimiter.Outcome outcome, IDisposable? slot) = server.Limiter.TryAdmit(context.Connection.RemoteIpAddress);
        switch (outcome)
        {
            case ConnectionLimiter.Outcome.ServerFull:
                await RefuseAsync(context, server, StatusCodes.Status503ServiceUnavailable, "The server is at its connection limit; retry later.").ConfigureAwait(false);
                return;
            case ConnectionLimiter.Outcome.AddressFull:
                await RefuseAsync(context, server, StatusCodes.Status429TooManyRequests, "Too many connections from this address; close some and retry later.").ConfigureAwait(false);
                return;
        }

        using (slot)
        {
            await AcceptAsync(context, server, protocol, upgrade, slot).ConfigureAwait(false);
        }
    }

    /// <summary>Accepts the upgrade and runs the connection; it gives <paramref name="slot"/> back when its socket is done, before its Disconnect hooks.</summary>
    private static async Task AcceptAsync(HttpContext context, RealtimeServer server, RealtimeProtocol protocol, UpgradeRequest upgrade, IDisposable? slot)
    {
        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = upgrade.SubProtocol,
            KeepAliveInterval = TimeSpan.Zero, // the protocol's own ping/pong is the heartbeat
        }).ConfigureAwait(false);

        var connection = new ServerConnection(server, protocol, socket, upgrade, context.User, context.Abort, slot)
        {
            Writes = GracefulUpgradeFeature.WritesOf(context),
        };
        await connection.RunAsync(context).ConfigureAwait(false);

        // A WebSocket that aborted itself after its own close frame (a bad frame): give the peer the chance to read it.
        if (socket.State == WebSocketState.Aborted && !context.RequestAborted.IsCancellationRequested)
        {
            await GracefulUpgradeFeature.WaitForPeerAsync(context, server.Options.CloseTimeout, server.Time).ConfigureAwait(false);
        }
    }

    /// <summary>Browsers always send <c>Origin</c> on a WebSocket upgrade; other clients need not, and cannot be hijacked across sites.</summary>
    private static bool IsOriginAllowed(HttpContext context, RealtimeOptions options)
    {
        if (options.AllowedOrigins.Count == 0)
        {
            return true;
        }

        Microsoft.Extensions.Primitives.StringValues origin = context.Request.Headers.Origin;
        if (origin.Count == 0)
        {
            return true;
        }

        return origin.Count == 1 && options.AllowedOrigins.Contains(origin[0]!, StringComparer.OrdinalIgnoreCase);
    }

    private static Task RefuseAsync(HttpContext context, RealtimeServer server, int statusCode, string text)
        => RefuseAsync(context, server, HttpRefusal.Text(statusCode, text));

    private static Task RefuseAsync(HttpContext context, RealtimeServer server, HttpRefusal refusal)
    {
        RealtimeLog.RequestRefused(server.Logger, refusal.StatusCode, refusal.Body.TrimEnd());
        context.Response.StatusCode = refusal.StatusCode;
        context.Response.ContentType = refusal.ContentType;
        return context.Response.WriteAsync(refusal.Body, context.RequestAborted);
    }
}
