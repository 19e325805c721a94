using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Realtime.Internal;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal;

namespace Realtime.Server;

/// <summary>
/// The Realtime server of this application (a singleton in DI): register hooks and middleware, and
/// push messages to rooms and connections from anywhere (controllers, background services).
/// </summary>
/// <remarks>
/// All members are thread-safe. Register hooks and middleware at start-up (in the
/// <c>MapRealtime</c> callback); registering later is allowed and applies to events that follow.
/// </remarks>
public sealed partial class RealtimeServer
{
    private readonly ConcurrentDictionary<string, ServerConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ServerConnection, byte> _handshaking = new();
    private readonly IRoomBroker _broker;
    private readonly HeartbeatTimer _heartbeat;
    private readonly Action<long> _heartbeatTick;
    private volatile bool _stopping;
    private int _stopHookRegistered;

    internal RealtimeServer(RealtimeOptions options, IRoomBroker broker, HeartbeatTimer heartbeat, TimeProvider time,
                            ILoggerFactory loggerFactory, RealtimeMetrics metrics)
    {
        Options = options;
        _broker = broker;
        _heartbeat = heartbeat;
        Time = time;
        Logger = loggerFactory.CreateLogger("Realtime.Server");
        Metrics = metrics;
        _heartbeatTick = OnHeartbeatTick;
        Limiter = new ConnectionLimiter(options);
    }

    /// <summary>The ids of the rooms that have members on this server (a snapshot).</summary>
    public IReadOnlyCollection<string> Rooms => _broker.Rooms;

    /// <summary>The number of accepted connections on this server.</summary>
    public int ConnectionCount => _connections.Count;

    internal RealtimeOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal RealtimeMetrics Metrics { get; }

    internal IRoomBroker Broker => _broker;

    internal ConnectionLimiter Limiter { get; }

    internal bool IsStopping => _stopping;

    /// <summary>Finds an accepted connection on this server by id.</summary>
    /// <param name="connectionId">The 20-character connection id.</param>
    /// <returns>The connection, or <see langword="null"/> when none is connected with that id.</returns>
    public ServerConnection? GetConnection(string connectionId)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return _connections.TryGetValue(connectionId, out ServerConnection? connection) ? connection : null;
    }

    /// <summary>The connections in a room on this server (a snapshot).</summary>
    /// <param name="roomId">The room.</param>
    /// <returns>The members; empty when the room does not exist.</returns>
    public IReadOnlyCollection<ServerConnection> GetConnections(string roomId)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return _broker.GetConnections(roomId);
    }

    /// <summary>
    /// Sends a message to every member of a room. The frame is serialized once and the same bytes are
    /// queued to every recipient; the call never blocks (a recipient whose queue is full is closed with 4003).
    /// </summary>
    /// <typeparam name="T">The payload's type. A <see cref="Message"/>, <see cref="System.Text.Json.JsonElement"/>,
    /// <see cref="byte"/> array or <see cref="ReadOnlyMemory{T}"/> of bytes is sent as it is (the byte forms as binary messages).</typeparam>
    /// <param name="roomId">The room.</param>
    /// <param name="data">The payload.</param>
    /// <param name="type">The message type, or <see langword="null"/> (for a <see cref="Message"/>: keep its own type).</param>
    /// <exception cref="ArgumentException">The message encodes to more than clients accept, <see cref="RealtimeOptions.MaxMessageSize"/> + 1 KiB
    /// (checked when it is encoded, that is when the room has members on this server).</exception>
    /// <example><code>server.Broadcast("room1", new { content = "New paragraph" }, "my-document");</code></example>
    public void Broadcast<T>(string roomId, T data, string? type = null)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        BroadcastCore(roomId, data, type, except: null);
    }

    internal void BroadcastCore<T>(string roomId, T data, string? type, ServerConnection? except)
    {
        // Serialize lazily: a room with no members costs nothing.
        if (!_broker.HasMembers(roomId))
        {
            return;
        }

        _broker.Broadcast(roomId, EncodeForClients(data, type), except);
    }

    /// <summary>
    /// Encodes an application message, refusing one larger than clients accept (<c>maxMessageSize</c> + 1 KiB, protocol.md §4):
    /// sent anyway, it would close every recipient with 1009.
    /// </summary>
    /// <exception cref="ArgumentException">The encoded message is too large.</exception>
    internal OutboundFrame EncodeForClients<T>(T data, string? type)
    {
        OutboundFrame frame = FrameEncoder.EncodeMessage(data, type, Options.JsonSerializerOptions);
        long limit = (long)Options.MaxMessageSize + Protocol.ProtocolLimits.EnvelopeAllowance;
        if (frame.Bytes.Length > limit)
        {
            throw new ArgumentException(
                $"The message encodes to {frame.Bytes.Length} bytes, more than clients accept: Realtime:MaxMessageSize ({Options.MaxMessageSize}) " +
                $"+ {Protocol.ProtocolLimits.EnvelopeAllowance} bytes. Send less, or raise RealtimeOptions.MaxMessageSize (clients learn it from welcome).",
                nameof(data));
        }

        return frame;
    }

    internal void AddHandshaking(ServerConnection connection) => _handshaking.TryAdd(connection, 0);

    internal void RemoveHandshaking(ServerConnection connection) => _handshaking.TryRemove(connection, out _);

    internal void Register(ServerConnection connection)
    {
        _connections[connection.Id] = connection;
        Metrics.ConnectionAccepted();
        _heartbeat.EnsureStarted(_heartbeatTick);
    }

    internal void Unregister(ServerConnection connection, DisconnectReason reason)
    {
        if (_connections.TryRemove(new KeyValuePair<string, ServerConnection>(connection.Id, connection)))
        {
            Metrics.ConnectionEnded(reason);
        }
    }

    /// <summary>Closes every connection when the application stops (registered once, however many endpoints map this server).</summary>
    internal void EnsureStopsWith(Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
    {
        if (Interlocked.Exchange(ref _stopHookRegistered, 1) == 0)
        {
            lifetime.ApplicationStopping.Register(static s => ((RealtimeServer)s!).Stop(), this);
        }
    }

    /// <summary>Application stopping: refuse new upgrades (503), then close every connection with 1001.</summary>
    internal void Stop()
    {
        _stopping = true;
        RealtimeLog.ShuttingDown(Logger, _connections.Count + _handshaking.Count);
        foreach (ServerConnection connection in _handshaking.Keys)
        {
            connection.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, "Server shutting down", drain: false);
        }

        foreach (KeyValuePair<string, ServerConnection> pair in _connections)
        {
            pair.Value.RequestClose(DisconnectReason.TransportClose, Protocol.CloseCodes.GoingAway, "Server shutting down", drain: true);
        }
    }

    /// <summary>
    /// One heartbeat tick over every accepted connection. It enumerates the dictionary itself, which takes no lock and
    /// copies nothing (<c>Values</c> would take every bucket lock and copy every connection into a new list, per tick).
    /// </summary>
    internal void OnHeartbeatTick(long now)
    {
        foreach (KeyValuePair<string, ServerConnection> pair in _connections)
        {
            pair.Value.OnHeartbeat(now);
        }
    }
}
