namespace Realtime.Client;

/// <summary>A connection event without an argument; the instances are in <see cref="ConnectionEvents"/>.</summary>
public sealed class ConnectionEvent
{
    internal ConnectionEvent(string name) => Name = name;

    /// <summary>The event's name, as in the JavaScript original (for example <c>"connect"</c>).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
