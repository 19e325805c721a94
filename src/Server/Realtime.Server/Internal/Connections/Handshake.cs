using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Realtime.Server.Diagnostics;

namespace Realtime.Server.Internal.Connections;

/// <summary>
/// A connection's handshake, from the client's opening request to its connect hooks: connect middleware, then accept (register,
/// join the room, queue the protocol's accept frame) or reject (the protocol's reject frame, then close 4002), then the room and
/// connect hooks, and only then may its messages be processed. Runs once per connection, off the receive loop.
/// </summary>
internal static class Handshake
{
    public static async Task RunAsync(ServerConnection connection, JsonElement auth, HttpContext httpContext)
    {
        // Off the receive loop from here on. Not Task.Run: its closure would keep the request reachable for the connection's life.
        await Task.Yield();
        RealtimeServer server = connection.Server;
        connection.Auth = auth;
        if (connection.HandshakeRefusal is { } refusal)
        {
            connection.Reject(refusal);
            return;
        }

        // Read now, while the request is alive: middleware still running after the socket closed outlives the request.
        CancellationToken aborted = httpContext.RequestAborted;
        var context = new ConnectContext(connection, httpContext);
        try
        {
            await server.ConnectMiddleware.InvokeAsync(context, () => context.RejectMessage is null ? connection.AcceptAsync() : ValueTask.CompletedTask)
                        .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // Middleware that honours RequestAborted gave up because the client went away: not a failure of the application.
            if (!connection.Accepted)
            {
                connection.Reject("Connection aborted");
                return;
            }
        }
        catch (Exception ex)
        {
            RealtimeLog.ConnectMiddlewareFailed(server.Logger, connection.Id, ex);
            if (!connection.Accepted)
            {
                connection.Reject("Internal server error");
                return;
            }
        }

        if (!connection.Accepted)
        {
            connection.Reject(context.RejectMessage ?? "Connection rejected");
            return;
        }

        connection.HandshakeOver();
        if (!connection.Joined)
        {
            return;
        }

        RealtimeLog.ConnectionAccepted(server.Logger, connection.Id, connection.RoomId);
        if (connection.CreatedRoom)
        {
            await server.CreateRoomHooks.InvokeAsync(new RoomContext(connection.RoomId, null), server.Logger, connection.Id).ConfigureAwait(false);
        }

        await server.EnterRoomHooks.InvokeAsync(new RoomContext(connection.RoomId, connection), server.Logger, connection.Id).ConfigureAwait(false);
        await server.ConnectHooks.InvokeAsync(context, server.Logger, connection.Id).ConfigureAwait(false);

        // Messages are processed in arrival order, one at a time, and not before the connect hooks finished.
        connection.OpenInbound();
    }
}
