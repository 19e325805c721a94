using Realtime.Protocol;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// A connection from its upgrade to its end: the send loop starts, the receive loop runs (and starts the handshake when the client
/// asks), and when the socket is done the connection leaves its room and its disconnect hooks run, exactly once, for an accepted
/// connection only.
/// </summary>
internal static class ConnectionLifecycle
{
    public static async Task RunAsync(ServerConnection connection)
    {
        RealtimeServer server = connection.Server;
        server.Shutdown.AddHandshaking(connection);
        if (connection.Protocol.EncodeGreeting(connection.Id, server.Options) is { } greeting)
        {
            connection.Outbound.TryEnqueue(greeting);
        }

        Task sendLoop = connection.Outbound.SendLoopAsync(connection.Socket, connection, connection.Writes);
        connection.StartHandshakeTimer();
        try
        {
            await new ReceiveLoop(connection, connection.Inbound, connection.Socket, server, connection.Protocol).RunAsync().ConfigureAwait(false);

            // Accepted: its connect hooks finish, then its messages, before it leaves. Not accepted: middleware that still runs can
            // no longer accept it, and is not waited for.
            if (connection.Accepted)
            {
                await connection.HandshakeTask!.ConfigureAwait(false);
                await connection.Inbound.WhenIdleAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            RealtimeLog.UnexpectedError(server.Logger, connection.Id, ex);
        }
        finally
        {
            server.Shutdown.RemoveHandshaking(connection);

            // Every path that ends the receive loop has requested a close already; this is a safety net.
            connection.RequestClose(DisconnectReason.TransportError, CloseCodes.InternalError, "Internal server error", drain: false);
            if (connection.Joined)
            {
                await LeaveAsync(connection).ConfigureAwait(false);
            }
            else if (!connection.Accepted)
            {
                server.Metrics.Refused(RefusalOf(connection));
            }

            // The send loop never throws; the close timer aborts the socket if the peer never completes the close.
            await sendLoop.ConfigureAwait(false);
            connection.Release();
            RealtimeLog.ConnectionClosed(server.Logger, connection.Id, connection.Reason, connection.CloseCode);
            if (connection.Joined)
            {
                await server.Hooks.Disconnect.InvokeAsync(new DisconnectContext(connection, connection.Reason), server.Logger, connection.Id).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Why a connection that was never accepted was refused, for <c>realtime.server.refusals</c>: what the close that refused it noted,
    /// else its close code (a rejection by connect middleware, or a handshake refused before any ran), else the client went away.
    /// </summary>
    private static string RefusalOf(ServerConnection connection)
        => connection.NotedRefusal
           ?? (connection.CloseCode == CloseCodes.HandshakeRejected
                ? (connection.HandshakeRefusal is null ? MetricTags.Rejected : MetricTags.BadRequest)
                : MetricTags.Abandoned);

    private static async Task LeaveAsync(ServerConnection connection)
    {
        RealtimeServer server = connection.Server;
        if (connection.Recovery is { TokenIssued: true })
        {
            Recovery.Resumption.Ended(connection); // before it is unregistered: a claim in between finds it live, never unknown
        }

        server.Unregister(connection, connection.Reason);
        bool destroyed = server.Node.Rooms.Remove(connection);
        bool replaced = server.Node.Find(connection.Id) is { } newer && newer != connection && newer.RoomId == connection.RoomId;
        await server.Node.Features.LeaveAsync(connection.RoomId, connection.Id, connection, destroyed, replaced).ConfigureAwait(false);
        if (destroyed && server.Node.Rooms.GetMembers(connection.RoomId).Count == 0)
        {
            server.Node.MemberStates.DropRoom(connection.RoomId); // features' member states kept in memory end with the room
        }
        await server.RemoveMemberAsync(connection).ConfigureAwait(false);
        await server.Hooks.LeaveRoom.InvokeAsync(new RoomContext(connection.RoomId, connection), server.Logger, connection.Id).ConfigureAwait(false);
        if (destroyed)
        {
            await server.Hooks.DestroyRoom.InvokeAsync(new RoomContext(connection.RoomId, null), server.Logger, connection.Id).ConfigureAwait(false);
        }
    }
}
