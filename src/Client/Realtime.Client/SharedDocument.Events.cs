namespace Realtime.Client;

public sealed partial class SharedDocument
{
    /// <summary>Adds a handler for a document event.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event, from <see cref="SharedDocumentEvents"/>.</param>
    /// <param name="handler">The handler; it runs on the connection's dispatcher, one event at a time. An exception it throws is logged.</param>
    /// <returns>Disposing it removes the handler.</returns>
    /// <example><code>using var sub = doc.On(SharedDocumentEvents.Op, e => Render(doc.Data));</code></example>
    public IDisposable On<TArgs>(SharedDocumentEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: false);
    }

    /// <summary>Adds a handler that runs at most once, then is removed.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event, from <see cref="SharedDocumentEvents"/>.</param>
    /// <param name="handler">The handler.</param>
    /// <returns>Disposing it removes the handler if it has not run.</returns>
    /// <example><code>doc.Once(SharedDocumentEvents.Load, version => Console.WriteLine($"loaded at {version}"));</code></example>
    public IDisposable Once<TArgs>(SharedDocumentEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        return _registry.Add(evt.Name, handler, once: true);
    }

    /// <summary>Removes every registration of <paramref name="handler"/> for the event, also one added with <c>Once</c>. Inside a handler it takes effect from the next event.</summary>
    /// <typeparam name="TArgs">The event's argument.</typeparam>
    /// <param name="evt">The event.</param>
    /// <param name="handler">The handler passed to <c>On</c> or <c>Once</c>.</param>
    public void Off<TArgs>(SharedDocumentEvent<TArgs> evt, Action<TArgs> handler)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _registry.Remove(evt.Name, handler);
    }
}
