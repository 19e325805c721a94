using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal;

/// <summary>The HTTP side of the endpoint: refuses what is not an acceptable WebSocket upgrade (the protocol decides its own rules), accepts the rest and runs the connection.</summary>
internal static class RealtimeEndpointHandler
{
    public static async Task HandleAsync(HttpContext context, RealtimeServer server, RealtimeProtocol protocol)
    {
        if (await AdmitAsync(context, server, protocol, context.Abort).ConfigureAwait(false) is { } admitted)
        {
            await RunAsync(admitted, context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses what is not acceptable, with the HTTP answer it deserves (the server is stopping, the protocol's own rules, the
    /// origin, the connection limits), or accepts the WebSocket upgrade. Nothing of the request is kept by what it returns;
    /// <paramref name="abortTransport"/> aborts the transport under the WebSocket (the request's, or the dense listener's connection).
    /// </summary>
    /// <returns>The accepted connection, not yet running; <see langword="null"/> when refused (the response is written).</returns>
    public static async Task<Admitted?> AdmitAsync(HttpContext context, RealtimeServer server, RealtimeProtocol protocol, Action abortTransport)
    {
        if (server.Shutdown.IsStopping)
        {
            await RefuseAsync(context, server, StatusCodes.Status503ServiceUnavailable, "The server is shutting down; reconnect to another node or later.").ConfigureAwait(false);
            return null;
        }

        if (!protocol.TryReadUpgrade(UpgradeRequestHead.Of(context), out UpgradeRequest upgrade, out HttpRefusal refusal))
        {
            await RefuseAsync(context, server, refusal).ConfigureAwait(false);
            return null;
        }

        if (!IsOriginAllowed(context, server.Options))
        {
            await RefuseAsync(context, server, StatusCodes.Status403Forbidden, "This origin is not allowed to connect (Realtime:AllowedOrigins).").ConfigureAwait(false);
            return null;
        }

        (ConnectionLimiter.Outcome outcome, IDisposable? slot) = server.Limiter.TryAdmit(context.Connection.RemoteIpAddress);
        switch (outcome)
        {
            case ConnectionLimiter.Outcome.ServerFull:
                await RefuseAsync(context, server, StatusCodes.Status503ServiceUnavailable, "The server is at its connection limit; retry later.").ConfigureAwait(false);
                return null;
            case ConnectionLimiter.Outcome.AddressFull:
                await RefuseAsync(context, server, StatusCodes.Status429TooManyRequests, "Too many connections from this address; close some and retry later.").ConfigureAwait(false);
                return null;
        }

        try
        {
            WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = upgrade.SubProtocol,
                KeepAliveInterval = TimeSpan.Zero, // the protocol's own ping/pong is the heartbeat
            }).ConfigureAwait(false);
            var connection = new ServerConnection(server, protocol, socket, upgrade, context.Features.Get<IHttpAuthenticationFeature>()?.User, abortTransport, slot)
            {
                Writes = GracefulUpgradeFeature.WritesOf(context),
            };
            return new Admitted(connection, GracefulUpgradeFeature.Of(context), slot, context.RequestAborted);
        }
        catch
        {
            slot?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs an accepted connection to its end; its slot is given back when its socket is done, before its Disconnect hooks.
    /// <paramref name="request"/> is held only until the connection's handshake takes it (nothing here keeps it for the run).
    /// </summary>
    public static Task RunAsync(Admitted admitted, HttpContext request) => CompleteAsync(admitted, admitted.Connection.RunAsync(request));

    private static async Task CompleteAsync(Admitted admitted, Task run)
    {
        ServerConnection connection = admitted.Connection;
        using (admitted.Slot)
        using (connection.Socket)
        {
            await run.ConfigureAwait(false);

            // A WebSocket that aborted itself after its own close frame (a bad frame): give the peer the chance to read it.
            if (connection.Socket.State == WebSocketState.Aborted && !admitted.Aborted.IsCancellationRequested && admitted.Upgrade is { } upgrade)
            {
                await upgrade.WaitForPeerAsync(connection.Server.Options.CloseTimeout, connection.Server.Time).ConfigureAwait(false);
            }
        }
    }

    /// <summary>An accepted upgrade: the connection, the upgrade that can wait for the peer after an abort, its admission slot, and when the transport is gone.</summary>
    internal sealed record Admitted(ServerConnection Connection, GracefulUpgradeFeature? Upgrade, IDisposable? Slot, CancellationToken Aborted);

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
