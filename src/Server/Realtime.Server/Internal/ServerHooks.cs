namespace Realtime.Server.Internal;

/// <summary>
/// The application's hooks and middleware of one server, by event: what <see cref="RealtimeServer.On{TContext}(ServerEvent{TContext}, Func{TContext, ValueTask})"/>
/// and <see cref="RealtimeServer.Use{TContext}(MiddlewareEvent{TContext}, RealtimeMiddleware{TContext})"/> register and the connection's
/// lifecycle invokes. Each list is copy-on-write: invoking takes no lock.
/// </summary>
internal sealed class ServerHooks
{
    public HookList<ConnectContext> Connect { get; } = new(ServerEvents.Connect.Name);

    public HookList<MessageContext> Message { get; } = new(ServerEvents.Message.Name);

    public HookList<DisconnectContext> Disconnect { get; } = new(ServerEvents.Disconnect.Name);

    public HookList<RoomContext> CreateRoom { get; } = new(ServerEvents.CreateRoom.Name);

    public HookList<RoomContext> EnterRoom { get; } = new(ServerEvents.EnterRoom.Name);

    public HookList<RoomContext> LeaveRoom { get; } = new(ServerEvents.LeaveRoom.Name);

    public HookList<RoomContext> DestroyRoom { get; } = new(ServerEvents.DestroyRoom.Name);

    public MiddlewareList<ConnectContext> ConnectMiddleware { get; } = new();

    public MiddlewareList<MessageContext> MessageMiddleware { get; } = new();

    /// <exception cref="ArgumentException">The event is not one of <see cref="ServerEvents"/>.</exception>
    public void Add<TContext>(ServerEvent<TContext> evt, Func<TContext, ValueTask> hook)
    {
        object list = evt.Name switch
        {
            "connect" => Connect,
            "message" => Message,
            "disconnect" => Disconnect,
            "createRoom" => CreateRoom,
            "enterRoom" => EnterRoom,
            "leaveRoom" => LeaveRoom,
            "destroyRoom" => DestroyRoom,
            _ => throw new ArgumentException($"Unknown event '{evt.Name}'.", nameof(evt)),
        };
        ((HookList<TContext>)list).Add(hook);
    }

    /// <exception cref="ArgumentException">Middleware of another event than connect or message.</exception>
    public void Use<TContext>(MiddlewareEvent<TContext> evt, RealtimeMiddleware<TContext> middleware)
    {
        switch (middleware)
        {
            case RealtimeMiddleware<ConnectContext> connect when ReferenceEquals(evt, ServerEvents.Connect):
                ConnectMiddleware.Add(connect);
                break;
            case RealtimeMiddleware<MessageContext> message when ReferenceEquals(evt, ServerEvents.Message):
                MessageMiddleware.Add(message);
                break;
            default:
                throw new ArgumentException($"Middleware is supported for the connect and message events only, not '{evt.Name}'.", nameof(evt));
        }
    }
}
