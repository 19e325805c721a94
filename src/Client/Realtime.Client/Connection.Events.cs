namespace Realtime.Client;

public sealed partial class Connection
{
    /// <summary>Adds a handler for an event without an argument.</summary>
    /// <param name="evt">The event, from <see cref="ConnectionEvents"/>.</param>
    /// <param name="handler">The handler; it runs on the connection's dispatcher, one event at a time.</param>
    /// <returns>Disposing it removes the handler.</returns>
    /// <example><code>using var sub = connection.On(ConnectionEvents.Connect, () => Console.WriteLine(connection.Id));</code></example>
    public IDisposable On(ConnectionEvent evt, Action handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: false);
    }

    /// <summary>Adds a handler for an event with an argument.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event, from <see cref="ConnectionEvents"/>.</param>
    /// <param name="handler">The handler; it runs on the connection's dispatcher, one event at a time.</param>
    /// <returns>Disposing it removes the handler.</returns>
    /// <example><code>connection.On(ConnectionEvents.Message, m => Console.WriteLine($"{m.Type}: {m.Data}"));</code></example>
    public IDisposable On<TArgs>(ConnectionEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: false);
    }

    /// <summary>Adds a handler that runs at most once, then is removed.</summary>
    /// <param name="evt">The event, from <see cref="ConnectionEvents"/>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>Disposing it removes the handler if it has not run.</returns>
    public IDisposable Once(ConnectionEvent evt, Action handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: true);
    }

    /// <summary>Adds a handler that runs at most once, then is removed.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event, from <see cref="ConnectionEvents"/>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>Disposing it removes the handler if it has not run.</returns>
    /// <example><code>connection.Once(ConnectionEvents.Reconnect, attempts => Console.WriteLine($"back after {attempts} attempts"));</code></example>
    public IDisposable Once<TArgs>(ConnectionEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: true);
    }

    /// <summary>Removes every registration of <paramref name="handler"/> for the event, also one added with <c>Once</c>. Inside a handler it takes effect from the next event.</summary>
    /// <param name="evt">The event.</param>
    /// <param name="handler">The handler passed to <c>On</c> or <c>Once</c>.</param>
    public void Off(ConnectionEvent evt, Action handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _registry.Remove(evt.Name, handler);
    }

    /// <summary>Removes every registration of <paramref name="handler"/> for the event, also one added with <c>Once</c>. Inside a handler it takes effect from the next event.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event.</param>
    /// <param name="handler">The handler passed to <c>On</c> or <c>Once</c>.</param>
    public void Off<TArgs>(ConnectionEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _registry.Remove(evt.Name, handler);
    }
}
