using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using Realtime.Internal;
using Realtime.Protocol;
using Realtime.Server.Internal;

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
    private const int StateHandshaking = 0;
    private const int StateOpen = 1;
    private const int StateClosing = 2;

    private readonly RealtimeServer _server;
    private readonly WebSocket _socket;
    private readonly Action? _abortTransport;
    private readonly IDisposable? _admission;
    private readonly Channel<OutboundFrame> _outbound;
    private readonly Channel<InboundMessage> _inbound;
    private ConcurrentDictionary<string, object?>? _tags;
    private int _state = StateHandshaking;
    private volatile bool _accepted;

    internal ServerConnection(RealtimeServer server, WebSocket socket, string roomId, bool roomIdValid,
                              IReadOnlyDictionary<string, string> query, ClaimsPrincipal user, Action? abortTransport = null, IDisposable? admission = null)
    {
        _admission = admission;
        _server = server;
        _socket = socket;
        _abortTransport = abortTransport;
        Id = ConnectionId.New();
        RoomId = roomId;
        RoomIdValid = roomIdValid;
        Query = query;
        User = user;
        _outbound = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(server.Options.MaxQueuedMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of dropping: that is the slow-consumer signal.
        });
        _rateLimited = server.Options.MaxMessagesPerSecond > 0;
        if (_rateLimited)
        {
            _rate = new TokenBucket(server.Options.MaxMessagesPerSecond, server.Options.MessageBurst, server.Time.TimestampFrequency);
        }

        _inbound = Channel.CreateBounded<InboundMessage>(new BoundedChannelOptions(RealtimeDefaults.InboundQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = true,

            // A message that finds the processing loop waiting is processed right away on the receive loop's thread,
            // without a hop through the thread pool; ordering and back-pressure are unchanged.
            AllowSynchronousContinuations = true,
        });
    }

    /// <summary>The connection id: 20 characters, the same value the client sees. A reconnection is a new connection with a new id.</summary>
    public string Id { get; }

    /// <summary>The room this connection belongs to (the <c>roomId</c> query parameter).</summary>
    public string RoomId { get; }

    /// <summary>The URL query of the upgrade request, percent-decoded, first value per key; <c>roomId</c> included.</summary>
    public IReadOnlyDictionary<string, string> Query { get; }

    /// <summary>The <c>auth</c> payload of the client's <c>hello</c>; <see cref="JsonValueKind.Undefined"/> when it sent none.</summary>
    /// <remarks>Treat it as a secret: Realtime never logs it.</remarks>
    public JsonElement Auth { get; private set; }

    /// <summary>Application state for this connection (for example set in connect middleware and read in hooks). Thread-safe.</summary>
    public ConcurrentDictionary<string, object?> Tags
        => _tags ?? Interlocked.CompareExchange(ref _tags, new ConcurrentDictionary<string, object?>(StringComparer.Ordinal), null) ?? _tags;

    /// <summary>The user from ASP.NET Core authentication of the upgrade request (an anonymous principal when there is none).</summary>
    public ClaimsPrincipal User { get; }

    /// <summary>Whether the connection is connected: <see langword="true"/> from <c>welcome</c> until it starts closing.</summary>
    public bool Connected => Volatile.Read(ref _state) == StateOpen;

    internal bool RoomIdValid { get; }

    /// <summary>This connection's index in its room's member list (kept by the room index, under the room's lock).</summary>
    int IRoomMember.RoomSlot { get; set; } = -1;

    void IRoomMember.Enqueue(OutboundFrame frame) => Enqueue(frame);

    internal bool HandshakeAccepted => _accepted;

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
        if (!_accepted)
        {
            throw new InvalidOperationException("Cannot send before the handshake is accepted: in connect middleware, send after 'await next()', or from a connect hook.");
        }

        if (Connected)
        {
            Enqueue(_server.EncodeForClients(data, type));
        }
    }

    /// <summary>Sends a message to the other members of this connection's room (and to this one when <paramref name="includeSelf"/>).</summary>
    /// <typeparam name="T">The payload's type; see <see cref="Send{T}(T, string?)"/>.</typeparam>
    /// <param name="data">The payload, serialized once for all recipients.</param>
    /// <param name="type">The message type, or <see langword="null"/>.</param>
    /// <param name="includeSelf">Whether this connection receives it too. Default <see langword="false"/>.</param>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept, <see cref="RealtimeOptions.MaxMessageSize"/> + 1 KiB
    /// (checked when it is encoded, that is when the room has members on this server).</exception>
    /// <example><code>server.On(ServerEvents.Message, ctx => ctx.Connection.Broadcast(ctx.Message));</code></example>
    public void Broadcast<T>(T data, string? type = null, bool includeSelf = false)
        => _server.BroadcastCore(RoomId, data, type, includeSelf ? null : this);

    /// <summary>
    /// Closes the connection from the server (<see cref="DisconnectReason.ServerDisconnect"/>, close code 4000):
    /// frames already queued are sent first, and the client does not reconnect.
    /// </summary>
    public void Close() => RequestClose(DisconnectReason.ServerDisconnect, CloseCodes.ServerDisconnect, "Closed by the server", drain: true);

    /// <inheritdoc/>
    public override string ToString() => $"ServerConnection {Id} (room {RoomId})";

    /// <summary>A message waiting for the processing loop, with its size on the wire (the inbound queue's byte bound counts it).</summary>
    private readonly record struct InboundMessage(Message Message, int Size);
}
