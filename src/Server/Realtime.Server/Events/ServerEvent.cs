namespace Realtime.Server;

/// <summary>An event of the server that hooks can observe with <see cref="RealtimeServer.On{TContext}(ServerEvent{TContext}, Func{TContext, ValueTask})"/>.</summary>
/// <typeparam name="TContext">The context a hook receives.</typeparam>
/// <remarks>The set of events is closed: use the instances of <see cref="ServerEvents"/>.</remarks>
public class ServerEvent<TContext>
{
    internal ServerEvent(string name) => Name = name;

    /// <summary>The event's name, as in the JavaScript original (for example <c>"connect"</c>).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
