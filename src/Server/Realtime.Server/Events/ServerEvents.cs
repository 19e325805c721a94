namespace Realtime.Server;

/// <summary>
/// The events of <see cref="RealtimeServer"/>. For one connection they happen in this order:
/// connect middleware, <c>welcome</c>, <see cref="CreateRoom"/> (first member on this node),
/// <see cref="EnterRoom"/>, <see cref="Connect"/> hooks, messages (<see cref="Message"/> middleware,
/// then hooks), <see cref="LeaveRoom"/>, <see cref="DestroyRoom"/> (last member), <see cref="Disconnect"/> hooks.
/// </summary>
public static class ServerEvents
{
    /// <summary><c>"connect"</c>: middleware decides whether a connection is accepted; hooks run once it has joined its room.</summary>
    public static readonly MiddlewareEvent<ConnectContext> Connect = new("connect");

    /// <summary><c>"message"</c>: middleware may refuse, drop or replace a message; hooks observe what passed.</summary>
    public static readonly MiddlewareEvent<MessageContext> Message = new("message");

    /// <summary><c>"disconnect"</c>: an accepted connection ended, with its <see cref="DisconnectReason"/>.</summary>
    public static readonly ServerEvent<DisconnectContext> Disconnect = new("disconnect");

    /// <summary><c>"createRoom"</c>: the first member of a room joined on this node.</summary>
    public static readonly ServerEvent<RoomContext> CreateRoom = new("createRoom");

    /// <summary><c>"enterRoom"</c>: a connection joined its room.</summary>
    public static readonly ServerEvent<RoomContext> EnterRoom = new("enterRoom");

    /// <summary><c>"leaveRoom"</c>: a connection left its room; it is no longer listed in <see cref="RealtimeServer.GetConnections(string)"/>.</summary>
    public static readonly ServerEvent<RoomContext> LeaveRoom = new("leaveRoom");

    /// <summary><c>"destroyRoom"</c>: the last member left; the room is no longer in <see cref="RealtimeServer.Rooms"/>.</summary>
    public static readonly ServerEvent<RoomContext> DestroyRoom = new("destroyRoom");
}
