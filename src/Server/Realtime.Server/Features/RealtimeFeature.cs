using Realtime.Internal;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Features;

namespace Realtime.Server;

/// <summary>
/// A server feature, such as presence (<see cref="PresenceServerExtensions.UsePresence"/>): it claims message types and handles
/// them itself, sees connections enter and leave rooms, keeps per-room state, and sends to connections and to channels of rooms.
/// Registered once with <see cref="RealtimeServer.UseFeature"/>, it serves every endpoint and wire protocol (<c>MapRealtime</c>,
/// <c>MapJsCollaboration</c> and the dense listener) with the same code.
/// </summary>
/// <remarks>
/// <para>
/// A claimed message is handled by <see cref="OnMessageAsync"/> in its connection's order (the next message of that connection
/// waits for it), never reaches the application's message middleware or hooks, and is never relayed. The callbacks run on the node
/// of the connection they concern; only <see cref="OnLeaveAsync"/> may run on another node, for a connection whose node stopped
/// answering (with a backplane; the connection is then <see langword="null"/>).
/// </para>
/// <para>
/// Per-room state shared by the cluster is kept through the member-state methods (<see cref="SetMemberStateAsync"/> and its
/// siblings): one entry per connection, removed with the room. A <b>channel</b> is a named subset of a room's members on every node
/// (<see cref="JoinChannelAsync"/>); <see cref="Broadcast"/> reaches the members of one channel of a room, on every node.
/// </para>
/// </remarks>
/// <example><code>
/// sealed class Echo() : RealtimeFeature("echo", ["echo"])
/// {
///     protected override ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken)
///     {
///         Send(connection, message);
///         return ValueTask.CompletedTask;
///     }
/// }
/// app.MapRealtime("/realtime", server => server.UseFeature(new Echo()));
/// </code></example>
public abstract class RealtimeFeature
{
    private RealtimeServer? _server;

    /// <summary>Creates a feature.</summary>
    /// <param name="name">The feature's name, unique on a server (it also names its member state in the backplane).</param>
    /// <param name="messageTypes">The message types it claims; no other registered feature may claim one of them.</param>
    /// <exception cref="ArgumentException">The name is empty or holds a control character, or a message type is <see langword="null"/>.</exception>
    protected RealtimeFeature(string name, IEnumerable<string> messageTypes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(messageTypes);
        if (name.Any(char.IsControl))
        {
            throw new ArgumentException("A feature's name holds no control character.", nameof(name));
        }

        string[] types = [.. messageTypes.Distinct(StringComparer.Ordinal)];
        if (Array.Exists(types, type => type is null))
        {
            throw new ArgumentException("A claimed message type is not null.", nameof(messageTypes));
        }

        Name = name;
        MessageTypes = types;
    }

    /// <summary>The feature's name.</summary>
    public string Name { get; }

    /// <summary>The message types the feature handles.</summary>
    public IReadOnlyList<string> MessageTypes { get; }

    /// <summary>The server the feature is registered on.</summary>
    /// <exception cref="InvalidOperationException">The feature is not registered yet.</exception>
    protected RealtimeServer Server => _server ?? throw new InvalidOperationException($"The feature '{Name}' is not registered on a RealtimeServer yet.");

    private FeatureSet Features => Server.Node.Features;

    /// <summary>A message of a claimed type: handled here, in its connection's order, never relayed.</summary>
    /// <param name="connection">The sender (connected, in its room).</param>
    /// <param name="message">The message; it owns its data.</param>
    /// <param name="cancellationToken">Canceled when the server stops.</param>
    /// <returns>Completes when the message is handled; the connection's next message waits until then. A failure is logged and the
    /// sender gets the protocol's error (<c>Internal server error</c>).</returns>
    protected abstract ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken);

    /// <summary>A connection entered its room on this node (before the application's room and connect hooks, and before any of its
    /// messages is handled).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="cancellationToken">Canceled when the server stops.</param>
    /// <returns>Completes when done; the connection's messages wait for it. A failure is logged.</returns>
    protected virtual ValueTask OnEnterAsync(ServerConnection connection, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// A connection left its room: it closed (whatever the reason: a close, a transport loss, a ping timeout) on this node, or, with a
    /// backplane, its node stopped answering and this node noticed first (<paramref name="connection"/> is then <see langword="null"/>;
    /// one node of the cluster is told). A connection replaced by a newer one with the same id in the same room (a client that keeps its
    /// id across reconnections, back before the server saw the old transport go) is not reported: its id is the newer connection's.
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="connectionId">The connection's id.</param>
    /// <param name="connection">The connection when it was on this node; <see langword="null"/> when its node died.</param>
    /// <param name="cancellationToken">Not canceled when the server stops: a stopping node still removes, for the rest of the cluster,
    /// what its connections leave behind.</param>
    /// <returns>Completes when done. A failure is logged.</returns>
    protected virtual ValueTask OnLeaveAsync(string roomId, string connectionId, ServerConnection? connection, CancellationToken cancellationToken)
        => ValueTask.CompletedTask;

    /// <summary>A room's last member on this node left (after <see cref="OnLeaveAsync"/>): what the feature keeps for the room here can go.</summary>
    /// <param name="roomId">The room.</param>
    protected virtual void OnRoomEnded(string roomId)
    {
    }

    /// <summary>Sends a message to one connection on this node, in its protocol. Never blocks; dropped when the connection is not connected.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="message">The message.</param>
    /// <exception cref="ArgumentException">The message encodes to more than the connection's client accepts.</exception>
    protected void Send(ServerConnection connection, Message message)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.SendMessage(message);
    }

    /// <summary>Refuses something a connection sent with the protocol's error (protocol v1 <c>error</c>, the compatibility endpoint's
    /// <c>message_error</c>); the connection stays open.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="message">What was wrong, for the client (never echo secrets).</param>
    protected void SendError(ServerConnection connection, string message)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(message);
        connection.SendError(message);
    }

    /// <summary>
    /// Sends a message to the members of a room's channel, on every node, except <paramref name="exceptConnectionId"/>. Serialized once
    /// per protocol and never blocks, like a room broadcast; broadcasts of one room keep one order, channel or not (except that a
    /// connection joining the channel gets what reached it during its welcome right after the welcome: later than room broadcasts
    /// sent meanwhile).
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="channel">The channel (<see cref="JoinChannelAsync"/>).</param>
    /// <param name="message">The message.</param>
    /// <param name="exceptConnectionId">A connection that does not receive it (usually the sender), or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The message is larger than clients accept.</exception>
    protected void Broadcast(string roomId, string channel, Message message, string? exceptConnectionId)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        Server.Publish(roomId, message, type: null, exceptConnectionId, channel);
    }

    /// <summary>
    /// Adds a connection to a channel of its room (again: it stays in it), and queues <paramref name="welcome"/>'s message to it first:
    /// channel broadcasts that reach the connection while <paramref name="welcome"/> runs are held and queued right after that message,
    /// so a snapshot read in <paramref name="welcome"/> is never overtaken by a change broadcast meanwhile.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="channel">The channel's name (at most 32 channels on a server).</param>
    /// <param name="welcome">Produces the message the connection gets first (for example a snapshot), or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels waiting for <paramref name="welcome"/>.</param>
    /// <returns>Completes when the connection is in the channel and its welcome queued. When <paramref name="welcome"/> fails (or its
    /// message is larger than the client accepts: <see cref="ArgumentException"/>), the exception comes out here and the connection is
    /// not in the channel (unless it was already), and what was held for it is dropped.</returns>
    /// <exception cref="InvalidOperationException">The server has 32 channels already.</exception>
    protected async ValueTask JoinChannelAsync(ServerConnection connection, string channel, Func<CancellationToken, ValueTask<Message?>>? welcome,
                                               CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        int mask = Features.Channels.GetOrAdd(channel);
        ChannelMembership channels = connection.Channels;
        channels.BeginJoin(mask);
        OutboundFrame? first = null;
        bool joined = false;
        try
        {
            if (welcome is not null && await welcome(cancellationToken).ConfigureAwait(false) is { } message)
            {
                first = connection.Protocol.EncodeMessage(message);
                MessageSize.EnsureFits(first.Value, connection.Protocol, Server.Node.MaxFrameBytes);
            }

            joined = true;
        }
        finally
        {
            channels.EndJoin(mask, joined ? first : null, connection, joined); // a failed welcome joins nothing (a connection in already stays)
        }
    }

    /// <summary>Removes a connection from a channel of its room.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="channel">The channel.</param>
    /// <returns><see langword="false"/> when it was not in it.</returns>
    protected bool LeaveChannel(ServerConnection connection, string channel)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        return Features.Channels.TryGet(channel, out int mask) && connection.Channels.Leave(mask);
    }

    /// <summary>Whether a connection is in a channel of its room.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="channel">The channel.</param>
    /// <returns><see langword="true"/> from <see cref="JoinChannelAsync"/> until <see cref="LeaveChannel"/> or the connection's end.</returns>
    protected bool IsInChannel(ServerConnection connection, string channel)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        return Features.Channels.TryGet(channel, out int mask) && connection.Channels.Includes(mask);
    }

    /// <summary>
    /// Sets this feature's state of one connection in a room, cluster-wide (through the backplane). The entry lasts until removed, or
    /// until the room ends; remove it in <see cref="OnLeaveAsync"/>.
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="connectionId">The connection the state belongs to.</param>
    /// <param name="state">The state's bytes (the backplane stores them as they are).</param>
    /// <param name="maxEntries">The most entries the room may hold for this feature: a new entry beyond it is refused.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Whether the entry was added, replaced, or refused.</returns>
    protected ValueTask<MemberStateChange> SetMemberStateAsync(string roomId, string connectionId, ReadOnlyMemory<byte> state, int maxEntries,
                                                               CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(connectionId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEntries);
        return Server.Backplane.SetMemberStateAsync(roomId, Name, connectionId, state, maxEntries, cancellationToken);
    }

    /// <summary>Removes this feature's state of one connection in a room, cluster-wide.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns><see langword="true"/> when there was one (only one concurrent caller sees it).</returns>
    protected ValueTask<bool> RemoveMemberStateAsync(string roomId, string connectionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(connectionId);
        return Server.Backplane.RemoveMemberStateAsync(roomId, Name, connectionId, cancellationToken);
    }

    /// <summary>This feature's states in a room, cluster-wide: connection id to state.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>A snapshot.</returns>
    protected ValueTask<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> GetMemberStatesAsync(string roomId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        return Server.Backplane.GetMemberStatesAsync(roomId, Name, cancellationToken);
    }

    internal ValueTask MessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken)
        => OnMessageAsync(connection, message, cancellationToken);

    internal ValueTask EnterAsync(ServerConnection connection, CancellationToken cancellationToken) => OnEnterAsync(connection, cancellationToken);

    internal ValueTask LeaveAsync(string roomId, string connectionId, ServerConnection? connection, CancellationToken cancellationToken)
        => OnLeaveAsync(roomId, connectionId, connection, cancellationToken);

    internal void RoomEnded(string roomId) => OnRoomEnded(roomId);

    /// <summary>Registers the feature on its server (once).</summary>
    internal void Attach(RealtimeServer server)
    {
        if (Interlocked.CompareExchange(ref _server, server, null) is not null)
        {
            throw new InvalidOperationException($"The feature '{Name}' is registered on a RealtimeServer already.");
        }
    }
}
