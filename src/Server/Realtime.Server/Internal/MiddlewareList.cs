namespace Realtime.Server.Internal;

/// <summary>The middleware of one event, in registration order: a copy-on-write array.</summary>
internal sealed class MiddlewareList<TContext>
{
    private readonly Lock _gate = new();
    private RealtimeMiddleware<TContext>[] _items = [];

    public void Add(RealtimeMiddleware<TContext> middleware)
    {
        lock (_gate)
        {
            _items = [.. _items, middleware];
        }
    }

    /// <summary>Whether no middleware is registered (the common case for messages: then the pipeline is skipped).</summary>
    public bool IsEmpty => Volatile.Read(ref _items).Length == 0;

    /// <summary>Runs the pipeline; <paramref name="terminal"/> runs when the last middleware calls <c>next</c>.</summary>
    public ValueTask InvokeAsync(TContext context, Func<ValueTask> terminal)
    {
        RealtimeMiddleware<TContext>[] items = Volatile.Read(ref _items);
        return items.Length == 0 ? terminal() : Invoke(items, 0, context, terminal);
    }

    private static ValueTask Invoke(RealtimeMiddleware<TContext>[] items, int index, TContext context, Func<ValueTask> terminal)
        => index == items.Length
            ? terminal()
            : items[index](context, () => Invoke(items, index + 1, context, terminal));
}
