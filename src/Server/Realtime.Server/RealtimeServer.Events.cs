using Realtime.Server.Internal;

namespace Realtime.Server;

public sealed partial class RealtimeServer
{
    /// <summary>The hooks and middleware the application registered.</summary>
    internal ServerHooks Hooks { get; } = new();

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
        Hooks.Add(evt, hook);
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
        Hooks.Use(evt, middleware);
        return this;
    }
}
