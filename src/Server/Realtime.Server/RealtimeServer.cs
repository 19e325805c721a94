using Microsoft.Extensions.Logging;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;
using Realtime.Server.Internal.Protocols.JsCollaboration;

namespace Realtime.Server;

/// <summary>
/// The Realtime server of this application (a singleton in DI): register hooks and middleware, and
/// push messages to rooms and connections from anywhere (controllers, background services).
/// </summary>
/// <remarks>
/// All members are thread-safe. Register hooks and middleware at start-up (in the
/// <c>MapRealtime</c> callback); registering later is allowed and applies to events that follow.
/// The synchronous members (<see cref="Rooms"/>, <see cref="ConnectionCount"/>, <see cref="GetConnection"/>,
/// <see cref="GetConnections"/>) see this node only; the asynchronous ones go through the <see cref="RealtimeBackplane"/> and
/// see the whole cluster (with the default in-memory backplane, this node is the cluster).
/// </remarks>
public sealed partial class RealtimeServer
{
    /// <summary>
    /// The name of the server's <see cref="System.Diagnostics.ActivitySource"/>, <c>Realtime.Server</c>: subscribe to it (OpenTelemetry's
    /// <c>AddSource</c>) for a span around each handshake and each message an application hook handles (docs/server.md, "Tracing").
    /// Nothing is recorded, and nothing is spent, unless something listens.
    /// </summary>
    public const string ActivitySourceName = "Realtime.Server";

    private readonly HeartbeatTimer _heartbeat;
    private readonly Action<long> _heartbeatTick;
    private readonly RealtimeProtocol[] _protocols; // protocol v1 first: the size of a message is checked in the first that can carry it

    internal RealtimeServer(RealtimeOptions options, RealtimeBackplane backplane, HeartbeatTimer heartbeat, TimeProvider time,
                            ILoggerFactory loggerFactory, RealtimeMetrics metrics)
    {
        Options = options;
        Backplane = backplane;
        _heartbeat = heartbeat;
        Time = time;
        Logger = loggerFactory.CreateLogger("Realtime.Server");
        Metrics = metrics;
        _heartbeatTick = OnHeartbeatTick;
        Limiter = new ConnectionLimiter(options);
        ProtocolV1 = new ProtocolV1(options.JsonSerializerOptions);
        JsCollaboration = new JsCollaborationProtocol(options);
        _protocols = [ProtocolV1, JsCollaboration];
        PingIntervalTicks = ToTimestamp(options.PingInterval);
        PingTimeoutTicks = ToTimestamp(options.PingTimeout);
        Node = new LocalNode(options, backplane, Logger, metrics);
        Shutdown = new ServerShutdown(Node, Logger);
        backplane.Attach(Node);
    }

    /// <summary>The ids of the rooms that have members on this node (a snapshot). For the whole cluster, see <see cref="GetRoomsAsync"/>.</summary>
    public IReadOnlyCollection<string> Rooms => Node.Rooms.RoomIds;

    /// <summary>The number of accepted connections on this node. For the whole cluster, see <see cref="GetConnectionCountAsync(CancellationToken)"/>.</summary>
    public int ConnectionCount => Node.ConnectionCount;

    internal RealtimeOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal RealtimeMetrics Metrics { get; }

    internal RealtimeBackplane Backplane { get; }

    /// <summary>The application's services, where features find their add-ons (a document store); null when built without them.</summary>
    internal IServiceProvider? Services { get; init; }

    internal LocalNode Node { get; }

    internal ProtocolV1 ProtocolV1 { get; }

    /// <summary>The original JavaScript framework's wire format (<c>MapJsCollaboration</c>).</summary>
    internal JsCollaborationProtocol JsCollaboration { get; }

    internal ConnectionLimiter Limiter { get; }

    /// <summary>How the server stops with its application, and what it tracks to do so.</summary>
    internal ServerShutdown Shutdown { get; }

    /// <summary>The ping interval in <see cref="Time"/> timestamp units.</summary>
    internal long PingIntervalTicks { get; }

    /// <summary>The ping timeout in <see cref="Time"/> timestamp units.</summary>
    internal long PingTimeoutTicks { get; }

    /// <summary>Finds an accepted connection on this node by id.</summary>
    /// <param name="connectionId">The 20-character connection id.</param>
    /// <returns>The connection, or <see langword="null"/> when none is connected here with that id (it may be on another node).</returns>
    public ServerConnection? GetConnection(string connectionId)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return Node.Find(connectionId);
    }

    /// <summary>The connections in a room on this node (a snapshot). For the whole cluster, see <see cref="GetConnectionIdsAsync"/>.</summary>
    /// <param name="roomId">The room.</param>
    /// <returns>The members; empty when the room has none here.</returns>
    public IReadOnlyCollection<ServerConnection> GetConnections(string roomId)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return Node.Rooms.GetMembers(roomId);
    }

    /// <summary>
    /// Sends a message to every member of a room, on every node. The message is serialized once per wire protocol in use and the
    /// same bytes are queued to every recipient; the call never blocks (a recipient whose queue is full is closed with 4003). A
    /// backplane failure is logged; <see cref="BroadcastAsync"/> reports it instead.
    /// </summary>
    /// <typeparam name="T">The payload's type. A <see cref="Message"/>, <see cref="System.Text.Json.JsonElement"/>,
    /// <see cref="byte"/> array or <see cref="ReadOnlyMemory{T}"/> of bytes is sent as it is (the byte forms as binary messages).</typeparam>
    /// <param name="roomId">The room.</param>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/> (for a <see cref="Message"/>: keep its own type).</param>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept, <see cref="RealtimeOptions.MaxMessageSize"/> + 1 KiB
    /// (checked at the call, in protocol v1, whatever the room holds and whatever the backplane), or has a type no wire protocol can carry.</exception>
    /// <example><code>server.Broadcast("room1", new { content = "New paragraph" }, "my-document");</code></example>
    public void Broadcast<T>(string roomId, T data, string? type = null)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        Publish(roomId, data, type, exceptConnectionId: null);
    }

    /// <summary>Sends a message to every member of a room, on every node, as <see cref="Broadcast{T}(string, T, string?)"/> does.</summary>
    /// <typeparam name="T">The payload's type; see <see cref="Broadcast{T}(string, T, string?)"/>.</typeparam>
    /// <param name="roomId">The room.</param>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for the backplane.</param>
    /// <returns>Completes when the backplane accepted the broadcast; faults when it could not publish it.</returns>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept.</exception>
    public Task BroadcastAsync<T>(string roomId, T data, string? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return Backplane.PublishAsync(CreateBroadcast(roomId, data, type, exceptConnectionId: null), cancellationToken).AsTask();
    }

    /// <summary>Sends a message to one connection, on whichever node it is.</summary>
    /// <typeparam name="T">The payload's type; see <see cref="ServerConnection.Send{T}(T, string?)"/>.</typeparam>
    /// <param name="connectionId">The connection.</param>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for the backplane.</param>
    /// <returns><see langword="true"/> when the connection was found and the message queued to it (for a connection on another node: when its
    /// node was reached); <see langword="false"/> when none has that id, or, on this node, the connection is still joining its room (before
    /// its <c>welcome</c>) or closing.</returns>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept.</exception>
    public Task<bool> SendAsync<T>(string connectionId, T data, string? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        if (Node.Find(connectionId) is { } local)
        {
            return local.SendMessage(MessageSize.ToMessage(data, type, Options.JsonSerializerOptions, copyBytes: false)) ? Task.FromResult(true) : Task.FromResult(false);
        }

        Message message = MessageSize.ToMessage(data, type, Options.JsonSerializerOptions, copyBytes: true);
        MessageSize.EnsureSendable(_protocols, message, Node.MaxFrameBytes, (message, Node.MaxFrameBytes), static (protocol, s) => MessageSize.Encode(protocol, s.message, s.MaxFrameBytes));
        return Backplane.SendAsync(connectionId, message, cancellationToken).AsTask();
    }

    /// <summary>Closes one connection, on whichever node it is, as <see cref="ServerConnection.Close"/> does (4000; the client does not reconnect).</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels waiting for the backplane.</param>
    /// <returns><see langword="true"/> when the connection was found; <see langword="false"/> when no node has it.</returns>
    public Task<bool> CloseAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return Node.Close(connectionId) ? Task.FromResult(true) : Backplane.CloseAsync(connectionId, cancellationToken).AsTask();
    }

    /// <summary>The rooms with members on any node.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>A snapshot of the room ids.</returns>
    public Task<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken = default)
        => Backplane.GetRoomsAsync(cancellationToken).AsTask();

    /// <summary>The ids of a room's members on every node.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>A snapshot of the connection ids; empty when the room has none.</returns>
    public Task<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return Backplane.GetConnectionIdsAsync(roomId, cancellationToken).AsTask();
    }

    /// <summary>The number of accepted connections on every node.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The count.</returns>
    public Task<int> GetConnectionCountAsync(CancellationToken cancellationToken = default)
        => Backplane.GetConnectionCountAsync(cancellationToken).AsTask();

    /// <summary>The number of a room's members on every node.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The count; 0 when the room has none.</returns>
    public Task<int> GetRoomConnectionCountAsync(string roomId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return Backplane.GetRoomConnectionCountAsync(roomId, cancellationToken).AsTask();
    }

    /// <summary>
    /// Registers a feature (<see cref="RealtimeFeature"/>): from now on it handles the message types it claims, on every endpoint and
    /// protocol of this server. Register features at start-up, before connections arrive.
    /// </summary>
    /// <param name="feature">The feature; one instance serves one server.</param>
    /// <returns>This server.</returns>
    /// <exception cref="ArgumentException">A feature of the same name is registered, or another feature claims one of its message types.</exception>
    /// <exception cref="InvalidOperationException">The feature is registered on a server already.</exception>
    public RealtimeServer UseFeature(RealtimeFeature feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        feature.Attach(this);
        Node.Features.Add(feature);
        return this;
    }

    /// <summary>The registered feature of type <typeparamref name="TFeature"/>, or <see langword="null"/>.</summary>
    internal TFeature? FindFeature<TFeature>()
        where TFeature : RealtimeFeature
        => Node.Features.All.OfType<TFeature>().FirstOrDefault();

    /// <summary>A broadcast from this node; a failure of the in-memory backplane (a message too large) surfaces here, others are logged.</summary>
    internal void Publish<T>(string roomId, T data, string? type, string? exceptConnectionId, string? channel = null)
    {
        RoomBroadcast broadcast = CreateBroadcast(roomId, data, type, exceptConnectionId, channel);
        ValueTask publish = Backplane.PublishAsync(broadcast, CancellationToken.None);
        if (publish.IsCompleted)
        {
            publish.GetAwaiter().GetResult();
            return;
        }

        _ = ObservePublishAsync(publish, roomId);
    }

    /// <summary>A broadcast from this node, checked at the call: whatever the room holds and whatever the backplane, one too large is refused here.</summary>
    /// <exception cref="ArgumentException">The message is too large to send.</exception>
    private RoomBroadcast CreateBroadcast<T>(string roomId, T data, string? type, string? exceptConnectionId, string? channel = null)
    {
        var broadcast = new RoomBroadcast(roomId, MessageSize.ToMessage(data, type, Options.JsonSerializerOptions, copyBytes: true), exceptConnectionId,
                                          Backplane.NodeId, channel);
        broadcast.EnsureSendable(_protocols, Node.MaxFrameBytes); // what this encodes (only a message near the limit) the local fan-out reuses
        return broadcast;
    }

    private async Task ObservePublishAsync(ValueTask publish, string roomId)
    {
        try
        {
            await publish.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RealtimeLog.PublishFailed(Logger, roomId, ex);
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * Time.TimestampFrequency);
}
