using Realtime.Server.Diagnostics;

namespace Realtime.Server;

public sealed partial class RealtimeServer
{
    internal void AddHandshaking(ServerConnection connection) => _handshaking.TryAdd(connection, 0);

    internal void RemoveHandshaking(ServerConnection connection) => _handshaking.TryRemove(connection, out _);

    /// <summary>
    /// A dense connection starts reading its request head: <paramref name="read"/> is cancelled when the server stops. Returns
    /// <see langword="false"/> when it is stopping already. (One entry per read, gone with it: nothing registers on the
    /// connection's own tokens, whose registration lists would stay with every connection for its life.)
    /// </summary>
    internal bool AddHeadRead(CancellationTokenSource read)
    {
        _headReads.TryAdd(read, 0);
        if (_stopping)
        {
            _headReads.TryRemove(read, out _);
            return false;
        }

        return true;
    }

    internal void RemoveHeadRead(CancellationTokenSource read) => _headReads.TryRemove(read, out _);

    /// <summary>Registers an accepted connection; returns the connection it replaced (one that had the same id), if any.</summary>
    internal ServerConnection? Register(ServerConnection connection)
    {
        ServerConnection? replaced = Node.Register(connection);
        Metrics.ConnectionAccepted();
        if (replaced is not null)
        {
            Metrics.ConnectionEnded(DisconnectReason.ServerDisconnect); // its own Unregister no longer finds it
        }

        _heartbeat.EnsureStarted(_heartbeatTick);
        return replaced;
    }

    internal void Unregister(ServerConnection connection, DisconnectReason reason)
    {
        if (Node.Unregister(connection))
        {
            Metrics.ConnectionEnded(reason);
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

    /// <summary>Closes every connection when the application stops (registered once, however many endpoints map this server).</summary>
    internal void EnsureStopsWith(Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
    {
        if (Interlocked.Exchange(ref _stopHookRegistered, 1) == 0)
        {
            lifetime.ApplicationStopping.Register(static s => ((RealtimeServer)s!).Stop(), this);
        }
    }

    /// <summary>Application stopping: refuse new upgrades (503), then close every connection with 1001.</summary>
    internal void Stop()
    {
        _stopping = true;
        RealtimeLog.ShuttingDown(Logger, Node.ConnectionCount + _handshaking.Count);
        foreach (CancellationTokenSource read in _headReads.Keys)
        {
            read.Cancel();
        }

        foreach (ServerConnection connection in _handshaking.Keys)
        {
            connection.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, "Server shutting down", drain: false);
        }

        foreach (KeyValuePair<string, ServerConnection> pair in Node.Connections)
        {
            pair.Value.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, "Server shutting down", drain: true);
        }
    }

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
    }
}
