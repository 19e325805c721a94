using Realtime.Internal;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// A connection that asked for recovery joining its room (<see cref="RoomIndex{TMember}.AddAsync(TMember, HistoryJoin)"/>): the
/// position it resumes from, when its token was accepted, how to read what this node's history no longer holds, and its
/// <c>welcome</c>, encoded under the room's lock once the outcome is known.
/// </summary>
internal abstract class HistoryJoin
{
    /// <summary>The last position the client received, when its token was valid and claimed; <see langword="null"/> when it is not resuming.</summary>
    public RoomPosition? After { get; init; }

    /// <summary>The former connection's id (its own broadcasts are not replayed to it), or <see langword="null"/>.</summary>
    public string? FormerConnectionId { get; init; }

    /// <summary>What the former connection's token allows (its own tail is not replayed); <see langword="null"/> when it is not resuming.</summary>
    public ResumeGrant? Former { get; init; }

    /// <summary>Whether the <c>hello</c> offered a token: the <c>welcome</c> then says <c>recovered</c>, true or false.</summary>
    public bool Offered { get; init; }

    /// <summary>The room's broadcasts after <paramref name="after"/> from the backplane (<see cref="RealtimeBackplane.ReadHistoryAsync"/>); <see langword="null"/> when it cannot give them.</summary>
    public abstract ValueTask<IReadOnlyList<RoomBroadcast>?> FetchAsync(RoomPosition after);

    /// <summary>The <c>welcome</c>, with the resume token of what this connection may claim (<paramref name="grant"/>) in a room with history.</summary>
    /// <param name="position">The position from which the connection receives the room's broadcasts; <see langword="null"/> in a room without history.</param>
    /// <param name="recovered">Whether the missed broadcasts follow; <see langword="null"/> when no token was offered.</param>
    /// <param name="grant">What its token allows: from <paramref name="position"/>, less the own tail of its replay; <see langword="null"/> in a room without history.</param>
    public abstract OutboundFrame Welcome(RoomPosition? position, bool? recovered, ResumeGrant? grant);
}
