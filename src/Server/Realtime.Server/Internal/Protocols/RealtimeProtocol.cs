using Realtime.Internal;

namespace Realtime.Server.Internal.Protocols;

/// <summary>
/// One wire protocol: how an upgrade is checked, how a client's messages are read, and the bytes of every frame the server
/// sends. The connection lifecycle, hooks, middleware, limits and rooms never look past this type, so a second protocol is a
/// second implementation, not a second connection class. It knows nothing of the listener that carries it: an upgrade comes as
/// an <see cref="UpgradeRequestHead"/> (from an ASP.NET Core endpoint or the dense listener alike), and the writers take the
/// values they encode, not the connection. Implementations are stateless singletons; per-connection state lives in the
/// <see cref="ProtocolReader"/>.
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

    /// <summary>Checks the HTTP side of an upgrade request (a WebSocket upgrade or not) and reads what the connection needs from it.</summary>
    /// <param name="request">The request, as the listener that received it read it.</param>
    /// <param name="upgrade">What was read, when the upgrade is acceptable.</param>
    /// <param name="refusal">The HTTP error response, in the protocol's own form, when it is not.</param>
    public abstract bool TryReadUpgrade(in UpgradeRequestHead request, out UpgradeRequest upgrade, out HttpRefusal refusal);

    /// <summary>A frame the server sends as soon as the WebSocket is open, before the client's opening request, or <see langword="null"/>.</summary>
    /// <param name="connectionId">The connection's id.</param>
    /// <param name="options">The server's options (heartbeat and size limit).</param>
    public virtual OutboundFrame? EncodeGreeting(string connectionId, RealtimeOptions options) => null;

    /// <summary>A reader for one new connection.</summary>
    public abstract ProtocolReader CreateReader();

    /// <summary>The frame that tells the client it is connected (v1 <c>welcome</c>).</summary>
    /// <param name="connectionId">The connection's id.</param>
    /// <param name="roomId">The room it joined.</param>
    /// <param name="options">The server's options (heartbeat and size limit).</param>
    public abstract OutboundFrame EncodeAccept(string connectionId, string roomId, RealtimeOptions options);

    /// <summary>
    /// The accept frame with the recovery fields (docs/protocol.md §3.1), for a client that asked for them; a protocol without
    /// recovery sends its plain accept frame.
    /// </summary>
    /// <param name="connectionId">The connection's id.</param>
    /// <param name="roomId">The room it joined.</param>
    /// <param name="options">The server's options.</param>
    /// <param name="resumeToken">This connection's resume token, or <see langword="null"/>.</param>
    /// <param name="position">The position from which it receives the room's broadcasts, or <see langword="null"/>.</param>
    /// <param name="recovered">Whether the missed broadcasts follow, when the client offered a token; otherwise <see langword="null"/>.</param>
    public virtual OutboundFrame EncodeAccept(string connectionId, string roomId, RealtimeOptions options, string? resumeToken, string? position, bool? recovered)
        => EncodeAccept(connectionId, roomId, options);

    /// <summary>A room broadcast with its position, for a member that takes positions; <see langword="null"/> when the protocol has no positions.</summary>
    /// <exception cref="ArgumentException">The protocol cannot carry the message.</exception>
    public virtual OutboundFrame? EncodePositioned(in Message message, string position) => null;

    /// <summary>The frame that refuses the handshake; the connection then closes with <see cref="Realtime.Protocol.CloseCodes.HandshakeRejected"/>.</summary>
    public abstract OutboundFrame EncodeReject(string message);

    /// <summary>The frame that refuses one message (message middleware's <c>Reject</c>); the connection stays open.</summary>
    public abstract OutboundFrame EncodeError(string message);

    /// <summary>An application message.</summary>
    /// <exception cref="ArgumentException">This protocol cannot carry the message's type (protocol v1: a type over 255 bytes of UTF-8, or
    /// <c>""</c> on binary data); nothing else is written in its place.</exception>
    public abstract OutboundFrame EncodeMessage(in Message message);

    /// <summary>Why this protocol cannot carry <paramref name="message"/> (its type), or <see langword="null"/> when it can.</summary>
    public virtual string? CannotCarry(in Message message) => null;

    /// <summary>
    /// The largest application frame of this protocol that its clients accept, given <paramref name="maxFrameBytes"/>, the limit of a
    /// protocol v1 frame (<c>MaxMessageSize</c> + 1 KiB).
    /// </summary>
    public virtual long FrameLimit(long maxFrameBytes) => maxFrameBytes;

    /// <summary>
    /// An upper bound of <paramref name="message"/>'s frame length in this protocol, computed without encoding it (a message well
    /// within the limit is not encoded just to be measured); <see cref="long.MaxValue"/> when the protocol gives none.
    /// </summary>
    public virtual long MaxEncodedLength(in Message message) => long.MaxValue;

    /// <summary>
    /// How a deliberate close is signalled besides the close code: a frame queued just before the close frame (for a protocol
    /// whose clients read the reason from a packet, not from the code), or <see langword="null"/> when the code alone says it.
    /// </summary>
    /// <param name="reason">Why the connection closes.</param>
    /// <param name="closeCode">The close code that follows.</param>
    public abstract OutboundFrame? ClosePacket(DisconnectReason reason, int closeCode);
}

/// <summary>What a protocol reads from an acceptable upgrade request.</summary>
/// <param name="SubProtocol">The subprotocol to answer with, or <see langword="null"/>.</param>
/// <param name="RoomId">The room asked for (possibly invalid; see <paramref name="HandshakeRefusal"/>).</param>
/// <param name="ConnectionId">The connection id the client chose, or <see langword="null"/> for one generated by the server.</param>
/// <param name="Query">The query, first value per key.</param>
/// <param name="HandshakeRefusal">
/// The message the handshake is refused with (the protocol's reject frame, before any middleware runs) when the request names no
/// valid room or id; <see langword="null"/> when it does. The refusal waits for the handshake so the client reads it as a refusal,
/// not as a failed transport it would retry.
/// </param>
internal readonly record struct UpgradeRequest(string? SubProtocol, string RoomId, string? ConnectionId, IReadOnlyDictionary<string, string> Query, string? HandshakeRefusal);

/// <summary>An HTTP error response to a request that is not upgraded (written by the listener that received it).</summary>
/// <param name="StatusCode">The status code.</param>
/// <param name="ContentType">The body's media type.</param>
/// <param name="Body">The body.</param>
internal readonly record struct HttpRefusal(int StatusCode, string ContentType, string Body)
{
    /// <summary>A plain-text refusal (Realtime's own form: one sentence that says what to do).</summary>
    public static HttpRefusal Text(int statusCode, string text) => new(statusCode, "text/plain; charset=utf-8", text + "\n");
}
