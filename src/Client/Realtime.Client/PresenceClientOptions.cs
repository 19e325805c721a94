namespace Realtime.Client;

/// <summary>Settings of a <see cref="Presence"/>.</summary>
public sealed class PresenceClientOptions
{
    /// <summary>
    /// Whether the presence restores itself after a reconnection: it subscribes again if it was subscribed, and submits
    /// <see cref="Presence.LocalState"/> again if it has one, so that a brief drop does not make this user vanish for good.
    /// Default <see langword="false"/>, as in the original framework, whose presence does nothing on reconnect.
    /// </summary>
    /// <remarks>
    /// <para>Each reconnection gets a new connection id, so the others see this user removed (under the old id) and added
    /// again (under the new one).</para>
    /// <para>With it, the first subscribe answer after a drop also raises the differences from the states held before it as
    /// events: <see cref="PresenceEvents.Remove"/> for connections that left meanwhile, then <see cref="PresenceEvents.Add"/>
    /// for new ones, then <see cref="PresenceEvents.Update"/> for changed states. Without it, as in the original, a subscribe
    /// answer replaces <see cref="Presence.OtherStates"/> silently.</para>
    /// </remarks>
    public bool RestoreAfterReconnect { get; set; }
}
