namespace Realtime.Client;

/// <summary>A connection event with one argument; the instances are in <see cref="ConnectionEvents"/>.</summary>
/// <typeparam name="TArgs">The argument handlers receive.</typeparam>
public sealed class ConnectionEvent<TArgs>
{
    internal ConnectionEvent(string name) => Name = name;

    /// <summary>The event's name, as in the JavaScript original (for example <c>"message"</c>).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
