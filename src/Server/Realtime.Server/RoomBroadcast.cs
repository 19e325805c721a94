using Realtime.Internal;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server;

/// <summary>
/// One broadcast to a room, as it travels from the sender through the <see cref="RealtimeBackplane"/> to every node with members
/// in the room. It carries the protocol-neutral <see cref="Message"/>; each node encodes it once per wire protocol its members
/// speak, the first time a member of that protocol is reached, and queues the same bytes to all of them.
/// </summary>
public sealed class RoomBroadcast
{
    // The excepted connection's id, or for a channel broadcast or a positioned one (both rare: a feature's channel, a room that keeps
    // a history) a Details: no field more for the others.
    private object? _target;
    private EncodedMessage? _slot0;
    private EncodedMessage? _slot1;

    /// <summary>Creates a broadcast (a backplane creates one for each broadcast it receives from another node).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="message">The message.</param>
    /// <param name="exceptConnectionId">A connection that does not receive it (the sender, unless it asked to), or <see langword="null"/>.</param>
    /// <param name="originNodeId">The <see cref="RealtimeBackplane.NodeId"/> of the node it was sent on.</param>
    public RoomBroadcast(string roomId, Message message, string? exceptConnectionId, string originNodeId)
        : this(roomId, message, exceptConnectionId, originNodeId, channel: null)
    {
    }

    /// <summary>Creates a broadcast to one channel of a room (a backplane carries <see cref="Channel"/> along).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="message">The message.</param>
    /// <param name="exceptConnectionId">A connection that does not receive it, or <see langword="null"/>.</param>
    /// <param name="originNodeId">The <see cref="RealtimeBackplane.NodeId"/> of the node it was sent on.</param>
    /// <param name="channel">The channel of the room whose members receive it (<see cref="RealtimeFeature"/>), or <see langword="null"/> for every member.</param>
    public RoomBroadcast(string roomId, Message message, string? exceptConnectionId, string originNodeId, string? channel)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(originNodeId);
        RoomId = roomId;
        Message = message;
        _target = channel is null ? exceptConnectionId : new Details(channel, exceptConnectionId);
        OriginNodeId = originNodeId;
    }

    /// <summary>The room.</summary>
    public string RoomId { get; }

    /// <summary>The message: a type, and JSON data or bytes.</summary>
    public Message Message { get; }

    /// <summary>The connection that does not receive it, or <see langword="null"/> when every member does.</summary>
    public string? ExceptConnectionId => _target is Details details ? details.Except : (string?)_target;

    /// <summary>The node the broadcast was sent on.</summary>
    public string OriginNodeId { get; }

    /// <summary>The channel of the room whose members receive it (a feature's subset of the room), or <see langword="null"/> for every member.</summary>
    public string? Channel => (_target as Details)?.Channel;

    /// <summary>
    /// The broadcast's place in its room's order, for recovery (docs/recovery.md), or <see langword="null"/>. A backplane that numbers
    /// its rooms' broadcasts (Redis) sets it on each broadcast it delivers; otherwise this node numbers the broadcasts of a room that
    /// keeps a history as it delivers them. Rooms without history leave it <see langword="null"/>.
    /// </summary>
    public RoomPosition? Position
    {
        get => (_target as Details)?.Position;
        init => AssignPosition(value);
    }

    /// <summary>Sets <see cref="Position"/> (before the broadcast is delivered: it is then read without a lock).</summary>
    internal void AssignPosition(RoomPosition? position)
    {
        if (position is null && _target is not Details)
        {
            return;
        }

        Details details = _target as Details ?? new Details(null, (string?)_target);
        details.Position = position;
        _target = details;
    }

    /// <summary>The v1 frame with <c>pos</c> for members that take positions, encoded once per broadcast (docs/protocol.md §3.1); <see langword="null"/> until then.</summary>
    internal OutboundFrame? PositionedFrame
    {
        get => (_target as Details)?.PositionedFrame;
        set => ((Details)_target!).PositionedFrame = value;
    }

    /// <summary>
    /// This broadcast in <paramref name="protocol"/>: its bytes, encoded on the first call for that protocol and shared by every later
    /// one (no allocation per recipient), or why that protocol cannot send it (kept too, so its members do not encode it again).
    /// Safe to call concurrently: a race encodes twice and keeps one.
    /// </summary>
    internal EncodedMessage EncodedFor(RealtimeProtocol protocol, long maxBytes)
    {
        ref EncodedMessage? slot = ref protocol.Slot == 0 ? ref _slot0 : ref _slot1;
        return Volatile.Read(ref slot) ?? Interlocked.CompareExchange(ref slot, MessageSize.Encode(protocol, Message, maxBytes), null) ?? slot!;
    }

    private sealed class Details(string? channel, string? except)
    {
        public string? Channel { get; } = channel;

        public string? Except { get; } = except;

        public RoomPosition? Position { get; set; }

        public OutboundFrame? PositionedFrame { get; set; }
    }

    /// <summary>Refuses at the call a broadcast that is too large to send (see <see cref="MessageSize.EnsureSendable"/>); what it encodes is kept.</summary>
    /// <exception cref="ArgumentException">The message is too large, or no protocol can carry it.</exception>
    internal void EnsureSendable(ReadOnlySpan<RealtimeProtocol> protocols, long maxBytes)
        => MessageSize.EnsureSendable(protocols, Message, maxBytes, (Broadcast: this, maxBytes), static (protocol, s) => s.Broadcast.EncodedFor(protocol, s.maxBytes));
}
