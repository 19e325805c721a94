using Realtime.Server.Internal;

namespace Realtime.Server;

public sealed partial class RealtimeServer
{
    private readonly HookList<ConnectContext> _connectHooks = new(ServerEvents.Connect.Name);
    private readonly HookList<MessageContext> _messageHooks = new(ServerEvents.Message.Name);
    private readonly HookList<DisconnectContext> _disconnectHooks = new(ServerEvents.Disconnect.Name);
    private readonly HookList<RoomContext> _createRoomHooks = new(ServerEvents.CreateRoom.Name);
    private readonly HookList<RoomContext> _enterRoomHooks = new(ServerEvents.EnterRoom.Name);
    private readonly HookList<RoomContext> _leaveRoomHooks = new(ServerEvents.LeaveRoom.Name);
    private readonly HookList<RoomContext> _destroyRoomHooks = new(ServerEvents.DestroyRoom.Name);
    private readonly MiddlewareList<ConnectContext> _connectMiddleware = new();
    private readonly MiddlewareList<MessageContext> _messageMiddleware = new();

    internal HookList<ConnectContext> ConnectHooks => _connectHooks;

    internal HookList<MessageContext> MessageHooks => _messageHooks;

    internal HookList<DisconnectContext> DisconnectHooks => _disconnectHooks;

    internal HookList<RoomContext> CreateRoomHooks => _createRoomHooks;

    internal HookList<RoomContext> EnterRoomHooks => _enterRoomHooks;

    internal HookList<RoomContext> LeaveRoomHooks => _leaveRoomHooks;

    internal HookList<RoomContext> DestroyRoomHooks => _destroyRoomHooks;

    internal MiddlewareList<ConnectContext> ConnectMiddleware => _connectMiddleware;

    internal MiddlewareList<MessageContext> MessageMiddleware => _messageMiddleware;

    /// <summary>
    /// Adds a hook that observes an event (the JavaScript <c>server.on</c>). Several hooks of one event
    /// run in registration order, each awaited. A hook that throws is logged; the other hooks still
    /// run, and the connection and the server are unaffected.
    /// </summary>
    /// <typeparam name="TContext">The event's context.</typeparam>
    /// <param name="evt">The event, from <see cref="ServerEvents"/>.</param>
    /// <param name="hook">The hook.</param>
    /// <returns>This server, to chain calls.</returns>
    /// <example><code>server.On(ServerEvents.Connect, ctx => Console.WriteLine(ctx.Connection.Id));</code></example>
    public RealtimeServer On<TContext>(ServerEvent<TContext> evt, Func<TContext, ValueTask> hook)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(hook);
        HooksFor(evt).Add(hook);
        return this;
    }

    /// <summary>Adds a synchronous hook that observes an event; see <see cref="On{TContext}(ServerEvent{TContext}, Func{TContext, ValueTask})"/>.</summary>
    /// <typeparam name="TContext">The event's context.</typeparam>
    /// <param name="evt">The event, from <see cref="ServerEvents"/>.</param>
    /// <param name="hook">The hook.</param>
    /// <returns>This server, to chain calls.</returns>
    /// <example><code>server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));</code></example>
    public RealtimeServer On<TContext>(ServerEvent<TContext> evt, Action<TContext> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return On(evt, context =>
        {
            hook(context);
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// Adds middleware that intercepts connections or messages (the JavaScript <c>server.use</c>), run in
    /// registration order. For <see cref="ServerEvents.Connect"/>: not calling <c>next</c> rejects the
    /// connection (<c>"Connection rejected"</c> unless <c>Reject</c> gave a message); a throw rejects it with
    /// <c>"Internal server error"</c>. For <see cref="ServerEvents.Message"/>: not calling <c>next</c> drops the
    /// message silently; <c>Reject</c> sends an <c>error</c> frame to the sender.
    /// </summary>
    /// <typeparam name="TContext"><see cref="ConnectContext"/> or <see cref="MessageContext"/>.</typeparam>
    /// <param name="evt"><see cref="ServerEvents.Connect"/> or <see cref="ServerEvents.Message"/>.</param>
    /// <param name="middleware">The middleware.</param>
    /// <returns>This server, to chain calls.</returns>
    /// <example>
    /// <code>
    /// server.Use(ServerEvents.Connect, async (ctx, next) =>
    /// {
    ///     if (ctx.Connection.Auth is { ValueKind: JsonValueKind.Object } auth &amp;&amp;
    ///         auth.TryGetProperty("token", out var t) &amp;&amp; t.GetString() == "valid-token") await next();
    ///     else ctx.Reject("Authentication failed");
    /// });
    /// </code>
    /// </example>
    public RealtimeServer Use<TContext>(MiddlewareEvent<TContext> evt, RealtimeMiddleware<TContext> middleware)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(middleware);
        switch (middleware)
        {
            case RealtimeMiddleware<ConnectContext> connect when ReferenceEquals(evt, ServerEvents.Connect):
                _connectMiddleware.Add(connect);
                break;
            case RealtimeMiddleware<MessageContext> message when ReferenceEquals(evt, ServerEvents.Message):
                _messageMiddleware.Add(message);
                break;
            default:
                throw new ArgumentException($"Middleware is supported for the connect and message events only, not '{evt.Name}'.", nameof(evt));
        }

        return this;
    }

    private HookList<TContext> HooksFor<TContext>(ServerEvent<TContext> evt)
    {
        object list = evt.Name switch
        {
            "connect" => _connectHooks,
            "message" => _messageHooks,
            "disconnect" => _disconnectHooks,
            "createRoom" => _createRoomHooks,
            "enterRoom" => _enterRoomHooks,
            "leaveRoom" => _leaveRoomHooks,
            "destroyRoom" => _destroyRoomHooks,
            _ => throw new ArgumentException($"Unknown event '{evt.Name}'.", nameof(evt)),
        };
        return (HookList<TContext>)list;
    }
}
