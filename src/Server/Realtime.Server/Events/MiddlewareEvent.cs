namespace Realtime.Server;

/// <summary>An event that middleware can intercept with <see cref="RealtimeServer.Use{TContext}(MiddlewareEvent{TContext}, RealtimeMiddleware{TContext})"/>: connect and message only.</summary>
/// <typeparam name="TContext">The context middleware receives.</typeparam>
public sealed class MiddlewareEvent<TContext> : ServerEvent<TContext>
{
    internal MiddlewareEvent(string name)
        : base(name)
    {
    }
}
