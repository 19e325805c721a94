using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.Primitives;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal;

/// <summary>
/// The HTTP side of a connection, for every listener: refuses what is not an acceptable WebSocket upgrade (the protocol decides its
/// own rules), accepts the rest and runs the connection. An ASP.NET Core endpoint (<see cref="HandleAsync"/>) and the dense listener
/// both admit through <see cref="TryAdmit"/>, which sees only the neutral <see cref="UpgradeRequestHead"/>, and each writes a
/// refusal its own way.
/// </summary>
internal static class RealtimeEndpointHandler
{
    public static async Task HandleAsync(HttpContext context, RealtimeServer server, RealtimeProtocol protocol)
    {
        if (!TryAdmit(UpgradeRequestHead.Of(context), server, protocol, out Admission admission, out HttpRefusal refusal))
        {
            context.Response.StatusCode = refusal.StatusCode;
            context.Response.ContentType = refusal.ContentType;
            await context.Response.WriteAsync(refusal.Body, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        Admitted admitted = await AcceptAsync(context, admission, context.Abort).ConfigureAwait(false);
        await RunAsync(admitted, context).ConfigureAwait(false);
    }

    /// <summary>
    /// Decides whether an upgrade request is served, and refuses it with the HTTP answer it deserves when it is not: the server is
    /// stopping, the protocol's own rules, the origin, the connection limits (in that order). A refusal is logged here; the listener
    /// writes it.
    /// </summary>
    /// <param name="request">The request, as its listener read it.</param>
    /// <param name="server">The server.</param>
    /// <param name="protocol">The protocol served where the request arrived.</param>
    /// <param name="admission">When admitted: what the protocol read and the connection's slot in the limits, to hand to <see cref="AcceptAsync"/>.</param>
    /// <param name="refusal">When refused: the response.</param>
    public static bool TryAdmit(in UpgradeRequestHead request, RealtimeServer server, RealtimeProtocol protocol, out Admission admission, out HttpRefusal refusal)
    {
        admission = default;
        if (server.Shutdown.IsStopping)
        {
            return Refuse(server, MetricTags.ShuttingDown,
                          HttpRefusal.Text(StatusCodes.Status503ServiceUnavailable, "The server is shutting down; reconnect to another node or later."), out refusal);
        }

        if (!protocol.TryReadUpgrade(request, out UpgradeRequest upgrade, out HttpRefusal own))
        {
            return Refuse(server, MetricTags.BadRequest, own, out refusal);
        }

        if (!IsOriginAllowed(request.Origin, server.Options))
        {
            return Refuse(server, MetricTags.Origin, HttpRefusal.Text(StatusCodes.Status403Forbidden, "This origin is not allowed to connect (Realtime:AllowedOrigins)."), out refusal);
        }

        (ConnectionLimiter.Outcome outcome, IDisposable? slot) = server.Limiter.TryAdmit(request.RemoteAddress);
        switch (outcome)
        {
            case ConnectionLimiter.Outcome.ServerFull:
                return Refuse(server, MetricTags.ConnectionLimit,
                              HttpRefusal.Text(StatusCodes.Status503ServiceUnavailable, "The server is at its connection limit; retry later."), out refusal);
            case ConnectionLimiter.Outcome.AddressFull:
                return Refuse(server, MetricTags.AddressLimit, HttpRefusal.Text(StatusCodes.Status429TooManyRequests, "Too many connections from this address; close some and retry later."), out refusal);
        }

        admission = new Admission(server, protocol, upgrade, slot);
        refusal = default;
        return true;
    }

    /// <summary>
    /// Accepts the WebSocket of an admitted request. Nothing of the request is kept by what it returns; <paramref name="abortTransport"/>
    /// aborts the transport under the WebSocket (the request's, or the dense listener's connection). The admission's slot is given
    /// back if the accept fails.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="admission">What <see cref="TryAdmit"/> admitted.</param>
    /// <param name="abortTransport">Aborts the transport under the WebSocket.</param>
    /// <param name="dense">Whether the request came through the dense listener (the connection's <c>realtime.endpoint</c>).</param>
    /// <returns>The accepted connection, not yet running.</returns>
    public static async Task<Admitted> AcceptAsync(HttpContext context, Admission admission, Action abortTransport, bool dense = false)
    {
        try
        {
            WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = admission.Upgrade.SubProtocol,
                KeepAliveInterval = TimeSpan.Zero, // the protocol's own ping/pong is the heartbeat
            }).ConfigureAwait(false);
            var connection = new ServerConnection(admission.Server, admission.Protocol, socket, admission.Upgrade, context.Features.Get<IHttpAuthenticationFeature>()?.User,
                                                  abortTransport, admission.Slot)
            {
                Writes = GracefulUpgradeFeature.WritesOf(context),
                Dense = dense,
            };
            return new Admitted(connection, GracefulUpgradeFeature.Of(context), admission.Slot, context.RequestAborted);
        }
        catch
        {
            admission.Slot?.Dispose();
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

    /// <summary>An admitted request: the server and protocol that serve it, what the protocol read, and its slot in the connection limits.</summary>
    internal readonly record struct Admission(RealtimeServer Server, RealtimeProtocol Protocol, UpgradeRequest Upgrade, IDisposable? Slot);

    /// <summary>Browsers always send <c>Origin</c> on a WebSocket upgrade; other clients need not, and cannot be hijacked across sites.</summary>
    private static bool IsOriginAllowed(StringValues origin, RealtimeOptions options)
    {
        if (options.AllowedOrigins.Count == 0 || origin.Count == 0)
        {
            return true;
        }

        return origin.Count == 1 && options.AllowedOrigins.Contains(origin[0]!, StringComparer.OrdinalIgnoreCase);
    }

    private static bool Refuse(RealtimeServer server, string reason, HttpRefusal refusal, out HttpRefusal refused)
    {
        RealtimeLog.RequestRefused(server.Logger, refusal.StatusCode, refusal.Body.TrimEnd());
        server.Metrics.Refused(reason);
        refused = refusal;
        return false;
    }
}
