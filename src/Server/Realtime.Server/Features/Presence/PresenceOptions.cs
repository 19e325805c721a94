namespace Realtime.Server;

/// <summary>
/// Limits of presence (<see cref="PresenceServerExtensions.UsePresence"/>). The defaults keep the largest subscribe reply (every state
/// of a full room) within the default <see cref="RealtimeOptions.MaxMessageSize"/> of 1 MiB.
/// </summary>
public sealed class PresenceOptions
{
    /// <summary>The largest state, in bytes of its JSON; a larger one is refused with an error to its sender. Default 4096.</summary>
    public int MaxStateBytes { get; set; } = 4096;

    /// <summary>The most states a room holds, cluster-wide; a new one beyond it is refused with an error to its sender. Default 100.</summary>
    public int MaxStatesPerRoom { get; set; } = 100;
}
