namespace Realtime.Client;

/// <summary>A shared document event; the instances are in <see cref="SharedDocumentEvents"/>.</summary>
/// <typeparam name="TArgs">The argument handlers receive.</typeparam>
public sealed class SharedDocumentEvent<TArgs>
{
    internal SharedDocumentEvent(string name) => Name = name;

    /// <summary>The event's name, as in the JavaScript original (for example <c>"op"</c>).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
