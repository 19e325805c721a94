using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// A connection's handshake, from the client's opening request to its connect hooks: connect middleware, then accept (register,
/// join the room, queue the protocol's accept frame) or reject (the protocol's reject frame, then close 4002), then the room and
/// connect hooks, and only then may its messages be processed. Runs once per connection, off the receive loop.
/// </summary>
internal static class Handshake
{
    /// <param name="connection">The connection.</param>
    /// <param name="auth">The opening request's auth payload.</param>
    /// <param name="httpContext">The upgraded request.</param>
    /// <param name="trace">The trace context the opening request carried: the parent of the handshake's span, when it is traced.</param>
    public static async Task RunAsync(ServerConnection connection, JsonElement auth, HttpContext httpContext, WireTraceContext? trace)
    {
        // Off the receive loop from here on. Not Task.Run: its closure would keep the request reachable for the connection's life.
        await Task.Yield();

        // The span covers connect middleware and the room and connect hooks (their own activities are its children), and ends before
        // the connection's messages may be processed: they get spans of their own, linked to it.
        Activity? span = RealtimeActivities.StartConnect(connection, trace);
        bool open;
        try
        {
            open = await RunHandshakeAsync(connection, auth, httpContext, span).ConfigureAwait(false);
        }
        finally
        {
            if (span is not null)
            {
                RealtimeActivities.StopConnect(span, connection);
            }
        }

        if (open)
        {
            // Messages are processed in arrival order, one at a time, and not before the connect hooks finished.
            connection.Inbound.Open();
        }
    }

    /// <returns>Whether the connection joined its room and its connect hooks ran: its messages may be processed.</returns>
    private static async Task<bool> RunHandshakeAsync(ServerConnection connection, JsonElement auth, HttpContext httpContext, Activity? span)
    {
        RealtimeServer server = connection.Server;
        connection.Auth = auth;
        if (connection.HandshakeRefusal is { } refusal)
        {
            Reject(connection, refusal);
            return false;
        }

        // Read now, while the request is alive: middleware still running after the socket closed outlives the request.
        CancellationToken aborted = httpContext.RequestAborted;
        var context = new ConnectContext(connection, httpContext);
        try
        {
            await server.Hooks.ConnectMiddleware.InvokeAsync(context, () => context.RejectMessage is null ? AcceptAsync(connection) : ValueTask.CompletedTask)
                        .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // Middleware that honours RequestAborted gave up because the client went away: not a failure of the application.
            if (!connection.Accepted)
            {
                connection.NoteRefusal(MetricTags.Abandoned);
                Reject(connection, "Connection aborted");
                return false;
            }
        }
        catch (Exception ex)
        {
            RealtimeLog.ConnectMiddlewareFailed(server.Logger, connection.Id, ex);
            RealtimeActivities.Failed(span, ex);
            if (!connection.Accepted)
            {
                connection.NoteRefusal(MetricTags.Error);
                Reject(connection, "Internal server error");
                return false;
            }
        }

        if (!connection.Accepted)
        {
            Reject(connection, context.RejectMessage ?? "Connection rejected");
            return false;
        }

        connection.HandshakeOver();
        if (!connection.Joined)
        {
            return false;
        }

        RealtimeLog.ConnectionAccepted(server.Logger, connection.Id, connection.RoomId);
        await server.Node.Features.EnterAsync(connection).ConfigureAwait(false);
        if (connection.CreatedRoom)
        {
            await server.Hooks.CreateRoom.InvokeAsync(new RoomContext(connection.RoomId, null), server.Logger, connection.Id).ConfigureAwait(false);
        }

        await server.Hooks.EnterRoom.InvokeAsync(new RoomContext(connection.RoomId, connection), server.Logger, connection.Id).ConfigureAwait(false);
        await server.Hooks.Connect.InvokeAsync(context, server.Logger, connection.Id).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The end of connect middleware: register the connection, join its room (awaiting the backplane's subscription), and queue the
    /// accept frame in the same step as the join, unless the connection is closing already. A broadcast to the room thus reaches it
    /// after its accept frame or not at all, and a client that has seen it receives every broadcast sent after it.
    /// </summary>
    private static async ValueTask AcceptAsync(ServerConnection connection)
    {
        if (!connection.TryBeginAccept())
        {
            return;
        }

        RealtimeServer server = connection.Server;
        if (server.Register(connection) is { } replaced)
        {
            // A client-chosen id that is live already (the stale connection of a reconnecting client): the newest wins.
            RealtimeLog.ConnectionReplaced(server.Logger, replaced.Id);
            replaced.RequestClose(DisconnectReason.ServerDisconnect, CloseCodes.ServerDisconnect, "Replaced by a newer connection", drain: true);
        }

        bool createdRoom;
        try
        {
            // The cluster's membership counts it first, then the room's subscription on this node (its first join here), then the
            // accept frame: RealtimeBackplane.AddMemberAsync says so.
            await server.Backplane.AddMemberAsync(connection.RoomId, connection.Id, CancellationToken.None).ConfigureAwait(false);
            // A client that asked for recovery (docs/protocol.md §3.1) gets the welcome's recovery fields, and what it missed when it resumes.
            createdRoom = connection.Recovery is null
                ? await server.Node.Rooms.AddAsync(connection, connection.Protocol.EncodeAccept(connection.Id, connection.RoomId, server.Options)).ConfigureAwait(false)
                : await Recovery.Resumption.JoinAsync(connection).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.JoinFailed(server.Logger, connection.Id, connection.RoomId, ex);
            connection.RequestClose(DisconnectReason.TransportError, CloseCodes.InternalError, "Internal server error", drain: false);
            connection.AcceptFailed();
            if (server.Node.Unregister(connection))
            {
                server.Metrics.ConnectionWithdrawn(connection); // a refusal (error), counted by its lifecycle; never a disconnect
            }

            await server.RemoveMemberAsync(connection).ConfigureAwait(false);
            return;
        }

        connection.EndAccept(createdRoom);
    }

    /// <summary>Refuses the handshake: the protocol's reject frame, then close 4002 (unless the connection is closing already).</summary>
    private static void Reject(ServerConnection connection, string message)
    {
        if (!connection.IsHandshaking)
        {
            return;
        }

        RealtimeLog.ConnectionRejected(connection.Server.Logger, connection.Id);
        connection.Outbound.TryEnqueue(connection.Protocol.EncodeReject(message));
        connection.RequestClose(DisconnectReason.ServerDisconnect, CloseCodes.HandshakeRejected, "Handshake rejected", drain: true);
        connection.HandshakeOver();
    }
}
