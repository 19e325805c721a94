using Microsoft.AspNetCore.Http;
using Realtime.Internal;

namespace Realtime.Server.Internal.Protocols;

/// <summary>
/// One wire protocol: how an upgrade is checked, how a client's messages are read, and the bytes of every frame the server
/// sends. The connection lifecycle, hooks, middleware, limits and rooms never look past this type, so a second protocol is a
/// second implementation, not a second connection class. Implementations are stateless singletons; per-connection state lives
/// in the <see cref="ProtocolReader"/>.
/// </summary>
internal abstract class RealtimeProtocol
{
    /// <summary>The number of protocols a broadcast can cache encodings for (<see cref="Slot"/> is below it).</summary>
    public const int SlotCount = 2;

    protected RealtimeProtocol(int slot)
    {
        if ((uint)slot >= SlotCount)
        {
            throw new ArgumentOutOfRangeException(nameof(slot));
        }

        Slot = slot;
    }

    /// <summary>This protocol's index in a broadcast's cache of encoded bytes (<see cref="Realtime.Server.RoomBroadcast"/>).</summary>
    public int Slot { get; }

    /// <summary>The encoded heartbeat request, shared by every connection.</summary>
    public abstract OutboundFrame Ping { get; }

    /// <summary>Checks the HTTP side of an upgrade and reads what the connection needs from it.</summary>
    /// <param name="context">The upgrade request (already known to be a WebSocket request).</param>
    /// <param name="upgrade">What was read, when the upgrade is acceptable.</param>
    /// <param name="refusal">The plain-text reason for a 400, when it is not.</param>
    public abstract bool TryReadUpgrade(HttpContext context, out UpgradeRequest upgrade, out string refusal);

    /// <summary>A reader for one new connection.</summary>
    public abstract ProtocolReader CreateReader();

    /// <summary>The frame that tells the client it is connected (v1 <c>welcome</c>).</summary>
    public abstract OutboundFrame EncodeAccept(ServerConnection connection, RealtimeOptions options);

    /// <summary>The frame that refuses the handshake; the connection then closes with <see cref="Realtime.Protocol.CloseCodes.HandshakeRejected"/>.</summary>
    public abstract OutboundFrame EncodeReject(string message);

    /// <summary>The frame that refuses one message (message middleware's <c>Reject</c>); the connection stays open.</summary>
    public abstract OutboundFrame EncodeError(string message);

    /// <summary>An application message.</summary>
    /// <exception cref="ArgumentException">The message's type is invalid.</exception>
    public abstract OutboundFrame EncodeMessage(in Message message);

    /// <summary>
    /// How a deliberate close is signalled besides the close code: a frame queued just before the close frame (for a protocol
    /// whose clients read the reason from a packet, not from the code), or <see langword="null"/> when the code alone says it.
    /// </summary>
    public abstract OutboundFrame? ClosePacket(DisconnectReason reason);
}

/// <summary>What a protocol reads from an acceptable upgrade request.</summary>
/// <param name="SubProtocol">The subprotocol to answer with, or <see langword="null"/>.</param>
/// <param name="RoomId">The room asked for (possibly invalid; see <paramref name="RoomIdValid"/>).</param>
/// <param name="RoomIdValid">Whether <paramref name="RoomId"/> is a valid room id; an invalid one is refused in the handshake.</param>
/// <param name="Query">The query, first value per key.</param>
internal readonly record struct UpgradeRequest(string? SubProtocol, string RoomId, bool RoomIdValid, IReadOnlyDictionary<string, string> Query);
