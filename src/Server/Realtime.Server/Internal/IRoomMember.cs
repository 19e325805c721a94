using Realtime.Internal;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal;

/// <summary>What <see cref="RoomIndex{TMember}"/> needs of a member: its room, its protocol, a slot for O(1) removal, and a queue that never blocks.</summary>
internal interface IRoomMember
{
    /// <summary>The member's one room (a connection belongs to exactly one room for its whole life).</summary>
    string RoomId { get; }

    /// <summary>The wire protocol the member speaks: a broadcast is encoded once per protocol.</summary>
    RealtimeProtocol Protocol { get; }

    /// <summary>The member's index in its room's member list, kept by <see cref="RoomIndex{TMember}"/>; -1 when not a member.</summary>
    int RoomSlot { get; set; }

    /// <summary>Queues a frame. Never blocks (a full queue closes the member with 4003).</summary>
    void Enqueue(OutboundFrame frame);

    /// <summary>Under the room's lock, its <c>welcome</c> (and any replay) queued: the member is in its room.</summary>
    void Joined()
    {
    }

    /// <summary>What the member asked of recovery (it takes room positions), or <see langword="null"/>.</summary>
    Recovery.RecoveryState? Recovery => null;

    /// <summary>Whether <paramref name="frames"/> more frames of <paramref name="bytes"/> in all fit the member's queue now (a replay that does not is refused up front).</summary>
    bool HasRoomFor(int frames, long bytes) => true;

    /// <summary>Whether the member is in (or joining) one of the channels of <paramref name="mask"/> (a feature's subset of the room).</summary>
    bool InChannel(int mask) => false;

    /// <summary>Queues a channel broadcast, or holds it while the member joins that channel (<see cref="Features.ChannelMembership"/>).</summary>
    void EnqueueInChannel(int mask, OutboundFrame frame)
    {
    }
}
