using Realtime.Internal;

namespace Realtime.Server.Internal;

/// <summary>What <see cref="RoomIndex{TMember}"/> needs of a member: its room, a slot for O(1) removal, and a queue that never blocks.</summary>
internal interface IRoomMember
{
    /// <summary>The member's one room (a v1 connection belongs to exactly one room for its whole life).</summary>
    string RoomId { get; }

    /// <summary>The member's index in its room's member list, kept by <see cref="RoomIndex{TMember}"/>; -1 when not a member.</summary>
    int RoomSlot { get; set; }

    /// <summary>Queues a frame. Never blocks (a full queue closes the member with 4003).</summary>
    void Enqueue(OutboundFrame frame);
}
