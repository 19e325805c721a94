using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Connections;
using Realtime.Server.Internal.Features;
using Realtime.Server.Internal.Protocols;
using Realtime.Server.Internal.Recovery;

namespace Realtime.Server;

/// <summary>
/// One client connection as the server sees it (the JavaScript server-side <c>Connection</c>).
/// </summary>
/// <remarks>
/// All members are thread-safe. <see cref="Send{T}(T, string?)"/> and <see cref="Broadcast{T}(T, string?, bool)"/>
/// never block: frames go into a bounded outbound queue that one send loop drains; when the queue
/// is full the connection is closed with 4003 (slow consumer).
/// </remarks>
public sealed partial class ServerConnection : IRoomMember
{
    private readonly Action? _abortTransport;
    private readonly IDisposable? _admission;
    private ConcurrentDictionary<string, object?>? _tags;
    private int _state; // a ConnectionState
    private ITimer? _timer; // the handshake deadline, then the close deadline
    private HttpContext? _request; // the upgraded request, until the handshake takes it
    private ClaimsPrincipal? _user; // null until read when authentication set none: an idle anonymous connection holds no principal
    private ChannelMembership? _channels; // null until a feature puts the connection in a channel

    internal ServerConnection(RealtimeServer server, RealtimeProtocol protocol, WebSocket socket, UpgradeRequest upgrade, ClaimsPrincipal? user,
                              Action? abortTransport = null, IDisposable? admission = null)
    {
        Server = server;
        Protocol = protocol;
        Socket = socket;
        _abortTransport = abortTransport;
        _admission = admission;
        Id = upgrade.ConnectionId ?? ConnectionId.New();
        RoomId = upgrade.RoomId;
        HandshakeRefusal = upgrade.HandshakeRefusal;
        Query = upgrade.Query;
        _user = user;
        Outbound = new OutboundQueue(server.Options.MaxQueuedMessages, server.Options.MaxQueuedBytes);
        Inbound = new ConnectionInbound(this);
    }

    /// <summary>
    /// The connection id: 20 URL-safe characters, the same value the client sees. On the Realtime protocol the server generates it
    /// (<c>[0-9A-Za-z_-]</c>), and a reconnection is a new connection with a new id; on the compatibility endpoint
    /// (<c>MapJsCollaboration</c>) the client chooses it (<c>[0-9A-Za-z]</c>) and keeps it across reconnections (docs/security.md).
    /// </summary>
    public string Id { get; }

    /// <summary>The room this connection belongs to (the <c>roomId</c> query parameter).</summary>
    public string RoomId { get; }

    /// <summary>The URL query of the upgrade request, percent-decoded, first value per key; <c>roomId</c> included.</summary>
    public IReadOnlyDictionary<string, string> Query { get; }

    /// <summary>The <c>auth</c> payload of the client's <c>hello</c>; <see cref="JsonValueKind.Undefined"/> when it sent none.</summary>
    /// <remarks>Treat it as a secret: Realtime never logs it.</remarks>
    public JsonElement Auth { get; internal set; }

    /// <summary>Application state for this connection (for example set in connect middleware and read in hooks). Thread-safe.</summary>
    public ConcurrentDictionary<string, object?> Tags
        => _tags ?? Interlocked.CompareExchange(ref _tags, new ConcurrentDictionary<string, object?>(StringComparer.Ordinal), null) ?? _tags;

    /// <summary>The user from ASP.NET Core authentication of the upgrade request (an anonymous principal when there is none).</summary>
    public ClaimsPrincipal User => _user ?? Interlocked.CompareExchange(ref _user, new ClaimsPrincipal(new ClaimsIdentity()), null) ?? _user;

    /// <summary>Whether the connection is connected: <see langword="true"/> from <c>welcome</c> until it starts closing.</summary>
    public bool Connected => State == ConnectionState.Open;

    internal RealtimeServer Server { get; }

    internal RealtimeProtocol Protocol { get; } // the wire protocol this connection speaks

    internal bool Dense { get; init; } // whether it came through the dense listener (not an ASP.NET Core endpoint)

    internal long AcceptedAt { get; set; } // a Stopwatch timestamp, for its lifetime metric

    /// <summary>Why the handshake is refused before any middleware runs (no valid room or id), or <see langword="null"/>.</summary>
    internal string? HandshakeRefusal { get; }

    /// <summary>Whether connect middleware accepted the connection (it then gets the whole lifecycle, even if it closed meanwhile).</summary>
    internal bool Accepted => ConnectionStates.IsAccepted(State);

    /// <summary>Whether the connection is in its room (its accept frame was queued).</summary>
    internal bool Joined { get; private set; }

    /// <summary>Whether joining created the room on this node.</summary>
    internal bool CreatedRoom { get; private set; }

    private ConnectionState State => ConnectionStates.Read(ref _state);

    RealtimeProtocol IRoomMember.Protocol => Protocol;

    int IRoomMember.RoomSlot { get; set; } = -1; // this connection's index in its room's member list, kept by the room index

    /// <summary>What its <c>hello</c> asked of recovery (docs/protocol.md §3.1), or <see langword="null"/> when it did not ask.</summary>
    internal RecoveryState? Recovery { get; set; }

    RecoveryState? IRoomMember.Recovery => Recovery;

    void IRoomMember.Joined() => ConnectionStates.TryOpen(ref _state); // Connected from the moment the welcome is queued, not when the handshake resumes

    bool IRoomMember.HasRoomFor(int frames, long bytes) => Outbound.HasRoomFor(frames, bytes);

    /// <summary>Sends a message to this connection. Never blocks; a message to a closed connection is dropped.</summary>
    /// <typeparam name="T">The payload's type. A <see cref="Message"/>, <see cref="JsonElement"/>, <see cref="byte"/> array
    /// or <see cref="ReadOnlyMemory{T}"/> of bytes is sent as it is (the byte forms as binary messages); anything else is
    /// serialized with <see cref="RealtimeOptions.JsonSerializerOptions"/>.</typeparam>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/> (for a <see cref="Message"/>: keep its own type).</param>
    /// <exception cref="InvalidOperationException">The handshake has not been accepted yet (in connect middleware, send after <c>await next()</c>).</exception>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept, <see cref="RealtimeOptions.MaxMessageSize"/> + 1 KiB.</exception>
    /// <example><code>ctx.Connection.Send(new { userId = "user1", active = true }, "my-presence");</code></example>
    public void Send<T>(T data, string? type = null)
    {
        if (!Accepted)
        {
            throw new InvalidOperationException("Cannot send before the handshake is accepted: in connect middleware, send after 'await next()', or from a connect hook.");
        }

        if (Connected)
        {
            SendMessage(MessageSize.ToMessage(data, type, Server.Options.JsonSerializerOptions, copyBytes: false));
        }
    }

    /// <summary>Sends a message to the other members of this connection's room (and to this one when <paramref name="includeSelf"/>).</summary>
    /// <typeparam name="T">The payload's type; see <see cref="Send{T}(T, string?)"/>.</typeparam>
    /// <param name="data">The payload, serialized once for all recipients.</param>
    /// <param name="type">The message type, or <see langword="null"/>.</param>
    /// <param name="includeSelf">Whether this connection receives it too. Default <see langword="false"/>.</param>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept, <see cref="RealtimeOptions.MaxMessageSize"/> + 1 KiB
    /// (checked at the call, whatever the room holds and whatever the backplane).</exception>
    /// <example><code>server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));</code></example>
    public void Broadcast<T>(T data, string? type = null, bool includeSelf = false)
        => Server.Publish(RoomId, data, type, includeSelf ? null : Id);

    /// <summary>
    /// Closes the connection from the server (<see cref="DisconnectReason.ServerDisconnect"/>, close code 4000):
    /// frames already queued are sent first, and the client does not reconnect.
    /// </summary>
    public void Close() => RequestClose(DisconnectReason.ServerDisconnect, CloseCodes.ServerDisconnect, "Closed by the server", drain: true);

    /// <inheritdoc/>
    public override string ToString() => $"ServerConnection {Id} (room {RoomId})";

    void IRoomMember.Enqueue(OutboundFrame frame) => Enqueue(frame);

    bool IRoomMember.InChannel(int mask) => _channels is { } channels && channels.Includes(mask);

    void IRoomMember.EnqueueInChannel(int mask, OutboundFrame frame) => _channels?.Deliver(mask, frame, this);

    /// <summary>The channels of its room this connection is in (features').</summary>
    internal ChannelMembership Channels
        => _channels ?? Interlocked.CompareExchange(ref _channels, new ChannelMembership(), null) ?? _channels;

    /// <summary>Sends a protocol-neutral message, encoded in this connection's protocol.</summary>
    /// <returns><see langword="false"/> when it was dropped: the connection is not connected (still joining, or closing), or its queue is full.</returns>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept.</exception>
    internal bool SendMessage(in Message message)
    {
        OutboundFrame frame = Protocol.EncodeMessage(message);
        MessageSize.EnsureFits(frame, Protocol, Server.Node.MaxFrameBytes);
        bool queued = Connected && Enqueue(frame);
        Server.Metrics.MessageSent(queued);
        return queued;
    }

    /// <summary>Queues a protocol's immediate answer to the client, unless the connection is closing.</summary>
    internal void SendReply(OutboundFrame frame) => _ = !ConnectionStates.IsClosing(State) && Enqueue(frame);

    internal void SendError(string message) => _ = Connected && Enqueue(Protocol.EncodeError(message));

    private bool Enqueue(OutboundFrame frame)
    {
        if (Outbound.TryEnqueue(frame))
        {
            return true;
        }

        if (!ConnectionStates.IsClosing(State))
        {
            RealtimeOptions options = Server.Options;
            RealtimeLog.SlowConsumer(Server.Logger, Id, Outbound.Count, Outbound.QueuedBytes, options.MaxQueuedMessages, options.MaxQueuedBytes);
            Server.Metrics.SlowConsumer();
            RequestClose(DisconnectReason.TransportError, CloseCodes.SlowConsumer, "Slow consumer", drain: false);
        }

        return false;
    }

    /// <summary>
    /// Runs the connection from the upgrade to the end, then returns (the HTTP request then completes). The request is kept only
    /// until the client's opening request hands it to connect middleware: the connection does not hold it for its whole life.
    /// </summary>
    internal Task RunAsync(HttpContext request)
    {
        _request = request;
        return ConnectionLifecycle.RunAsync(this);
    }

    internal WebSocket Socket { get; }

    internal OutboundQueue Outbound { get; }

    /// <summary>The transport stream's write gathering for the send loop, when the upgrade went through Realtime's wrapper.</summary>
    internal IWriteCoalescing? Writes { get; init; }

    /// <summary>The connection's way in: what the receive loop reads goes there, and from there to the application.</summary>
    internal ConnectionInbound Inbound { get; }

    /// <summary>The handshake, once the client's opening request arrived.</summary>
    internal Task? HandshakeTask { get; private set; }

    /// <summary>Why the connection closed (read once it is closing; <see cref="DisconnectReason.TransportError"/> before).</summary>
    internal DisconnectReason Reason => ConnectionStates.ReasonOf(ref _state) ?? DisconnectReason.TransportError;

    /// <summary>Why the connection is closing; <see langword="null"/> until a close has begun.</summary>
    internal DisconnectReason? ClosingReason => ConnectionStates.ReasonOf(ref _state);

    internal int CloseCode { get; private set; }

    /// <summary>The socket is done: no deadline any more, and the connection no longer counts towards the connection limits.</summary>
    internal void Release()
    {
        Interlocked.Exchange(ref _timer, null)?.Dispose();
        _admission?.Dispose();
    }

    /// <summary>Starts the handshake deadline.</summary>
    internal void StartHandshakeTimer() => SetTimer(static s => ((ServerConnection)s!).OnHandshakeTimeout(), Server.Options.HandshakeTimeout);

    /// <summary>The client's opening request (the protocol's reader lets only one through): the handshake starts, off the receive loop.</summary>
    internal void OnHello(JsonElement auth, WireTraceContext? trace, RecoveryState? recovery)
    {
        HttpContext request = Interlocked.Exchange(ref _request, null) ?? throw new InvalidOperationException("The handshake has started already.");
        Recovery = recovery;
        HandshakeTask = Handshake.RunAsync(this, auth, request, trace);
    }

    /// <summary>The link to its recorded <c>realtime.connect</c> span, for its message spans (set by the handshake); <see langword="null"/> when not traced.</summary>
    internal System.Diagnostics.ActivityLink[]? ConnectSpanLinks { get; set; }

    /// <summary>Connect middleware accepted the connection: Handshaking → Accepting, and the heartbeat starts.</summary>
    /// <returns><see langword="false"/> when it is closing already.</returns>
    internal bool TryBeginAccept()
    {
        if (!ConnectionStates.TryAccept(ref _state))
        {
            return false;
        }

        Inbound.StartHeartbeat();
        return true;
    }

    /// <summary>In its room, accept frame queued: Accepting → Open, unless a close came first (it still leaves the room).</summary>
    internal void EndAccept(bool createdRoom)
    {
        CreatedRoom = createdRoom;
        Joined = true;
        ConnectionStates.TryOpen(ref _state);
    }

    /// <summary>The join failed after the close it caused: the connection never was in its room (Refused).</summary>
    internal void AcceptFailed()
    {
        Volatile.Write(ref _refusal, MetricTags.Error);
        ConnectionStates.JoinFailed(ref _state);
    }

    /// <summary>Whether the handshake has no outcome yet (neither accepted nor closing).</summary>
    internal bool IsHandshaking => State == ConnectionState.Handshaking;

    /// <summary>The handshake has its outcome: no deadline any more, and no longer counted among the handshaking.</summary>
    internal void HandshakeOver()
    {
        // Only the handshake's own timer: a close that came first has replaced it with the close timer (the state says so).
        ITimer? deadline = Volatile.Read(ref _timer);
        if (!ConnectionStates.IsClosing(State) && Interlocked.CompareExchange(ref _timer, null, deadline) == deadline)
        {
            deadline?.Dispose();
        }

        Server.Shutdown.RemoveHandshaking(this);
    }
}
