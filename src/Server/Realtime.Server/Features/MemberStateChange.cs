namespace Realtime.Server;

/// <summary>What <see cref="RealtimeBackplane.SetMemberStateAsync"/> did with a connection's state.</summary>
public enum MemberStateChange
{
    /// <summary>The connection had no state: it has one now.</summary>
    Added,

    /// <summary>The connection's state was replaced.</summary>
    Replaced,

    /// <summary>The connection had no state and the room holds the most entries allowed: nothing was stored.</summary>
    Refused,
}
