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
    private Encoded? _slot0;
    private Encoded? _slot1;

    /// <summary>Creates a broadcast (a backplane creates one for each broadcast it receives from another node).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="message">The message.</param>
    /// <param name="exceptConnectionId">A connection that does not receive it (the sender, unless it asked to), or <see langword="null"/>.</param>
    /// <param name="originNodeId">The <see cref="RealtimeBackplane.NodeId"/> of the node it was sent on.</param>
    public RoomBroadcast(string roomId, Message message, string? exceptConnectionId, string originNodeId)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(originNodeId);
        RoomId = roomId;
        Message = message;
        ExceptConnectionId = exceptConnectionId;
        OriginNodeId = originNodeId;
    }

    /// <summary>The room.</summary>
    public string RoomId { get; }

    /// <summary>The message: a type, and JSON data or bytes.</summary>
    public Message Message { get; }

    /// <summary>The connection that does not receive it, or <see langword="null"/> when every member does.</summary>
    public string? ExceptConnectionId { get; }

    /// <summary>The node the broadcast was sent on.</summary>
    public string OriginNodeId { get; }

    /// <summary>
    /// The bytes of this broadcast in <paramref name="protocol"/>, encoded on the first call for that protocol and shared by every
    /// later one (no allocation per recipient). Safe to call concurrently: a race encodes twice and keeps one.
    /// </summary>
    /// <exception cref="ArgumentException">The encoded frame is larger than <paramref name="maxBytes"/>.</exception>
    internal OutboundFrame FrameFor(RealtimeProtocol protocol, long maxBytes)
    {
        ref Encoded? slot = ref protocol.Slot == 0 ? ref _slot0 : ref _slot1;
        Encoded? encoded = Volatile.Read(ref slot);
        if (encoded is null)
        {
            OutboundFrame frame = protocol.EncodeMessage(Message);
            MessageSize.EnsureFits(frame, maxBytes);
            encoded = Interlocked.CompareExchange(ref slot, new Encoded(frame), null) ?? slot;
        }

        return encoded!.Frame;
    }

    private sealed class Encoded(OutboundFrame frame)
    {
        public OutboundFrame Frame { get; } = frame;
    }
}
