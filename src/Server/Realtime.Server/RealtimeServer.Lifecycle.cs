using Realtime.Server.Diagnostics;

namespace Realtime.Server;

public sealed partial class RealtimeServer
{
    /// <summary>Registers an accepted connection; returns the connection it replaced (one that had the same id), if any.</summary>
    internal ServerConnection? Register(ServerConnection connection)
    {
        ServerConnection? replaced = Node.Register(connection);
        Metrics.ConnectionAccepted(connection);
        if (replaced is not null)
        {
            Metrics.ConnectionEnded(replaced, DisconnectReason.ServerDisconnect); // its own Unregister no longer finds it
        }

        _heartbeat.EnsureStarted(_heartbeatTick);
        return replaced;
    }

    internal void Unregister(ServerConnection connection, DisconnectReason reason)
    {
        if (Node.Unregister(connection))
        {
            Metrics.ConnectionEnded(connection, reason);
        }
    }

    /// <summary>Tells the backplane that a connection is no longer a member; a failure is logged (the membership is the backplane's).</summary>
    internal async ValueTask RemoveMemberAsync(ServerConnection connection)
    {
        if (Node.Find(connection.Id) is { } newer && newer != connection && newer.RoomId == connection.RoomId)
        {
            return; // replaced by a newer connection with the same id in the same room: the membership is the newer one's now
        }

        try
        {
            await Backplane.RemoveMemberAsync(connection.RoomId, connection.Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.MemberRemovalFailed(Logger, connection.Id, connection.RoomId, ex);
        }
    }

    /// <summary>Closes every connection when the application stops (see <see cref="Internal.ServerShutdown"/>).</summary>
    internal void Stop() => Shutdown.Stop();

    /// <summary>
    /// One heartbeat tick over every accepted connection. It enumerates the dictionary itself, which takes no lock and
    /// copies nothing (<c>Values</c> would take every bucket lock and copy every connection into a new list, per tick).
    /// </summary>
    internal void OnHeartbeatTick(long now)
    {
        foreach (KeyValuePair<string, ServerConnection> pair in Node.Connections)
        {
            pair.Value.OnHeartbeat(now);
        }

        Node.Rooms.SweepHistories(); // rooms' histories kept past their last leave expire (at most once a second)
    }
}
