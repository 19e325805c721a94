namespace Realtime.Server;

/// <summary>An accepted connection that ended: what <see cref="ServerEvents.Disconnect"/> hooks receive.</summary>
public sealed class DisconnectContext
{
    internal DisconnectContext(ServerConnection connection, DisconnectReason reason)
    {
        Connection = connection;
        Reason = reason;
    }

    /// <summary>The connection, no longer connected.</summary>
    public ServerConnection Connection { get; }

    /// <summary>The room it was in.</summary>
    public string RoomId => Connection.RoomId;

    /// <summary>Why it ended.</summary>
    public DisconnectReason Reason { get; }
}
