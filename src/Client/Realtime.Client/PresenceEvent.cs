namespace Realtime.Client;

/// <summary>A presence event; the instances are in <see cref="PresenceEvents"/>.</summary>
/// <typeparam name="TArgs">The argument handlers receive.</typeparam>
public sealed class PresenceEvent<TArgs>
{
    internal PresenceEvent(string name) => Name = name;

    /// <summary>The event's name, as in the JavaScript original (for example <c>"add"</c>).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
