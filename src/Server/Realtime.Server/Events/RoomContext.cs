namespace Realtime.Server;

/// <summary>A room event: what <see cref="ServerEvents.CreateRoom"/>, <see cref="ServerEvents.EnterRoom"/>, <see cref="ServerEvents.LeaveRoom"/> and <see cref="ServerEvents.DestroyRoom"/> hooks receive.</summary>
public sealed class RoomContext
{
    internal RoomContext(string roomId, ServerConnection? connection)
    {
        RoomId = roomId;
        Connection = connection;
    }

    /// <summary>The room.</summary>
    public string RoomId { get; }

    /// <summary>The connection that entered or left; <see langword="null"/> for <see cref="ServerEvents.CreateRoom"/> and <see cref="ServerEvents.DestroyRoom"/>.</summary>
    public ServerConnection? Connection { get; }
}
