using Realtime.Server.Internal;
using Realtime.Server.Internal.Features;

namespace Realtime.Server;

/// <summary>
/// How the nodes of a cluster share rooms: the seam a scale-out package (for example Redis) implements. The default, in memory,
/// serves one node. A joining connection is counted with <see cref="AddMemberAsync"/>; then the server calls <see cref="SubscribeAsync"/>
/// on a room's first join on this node (and <see cref="UnsubscribeAsync"/> after its last leave), and awaits the subscription before the
/// joining connection's <c>welcome</c> is queued; it publishes every
/// room broadcast through <see cref="PublishAsync"/>, local members included. An implementation hands what reaches it to
/// <see cref="DeliverLocally"/>, <see cref="SendLocally"/> and <see cref="CloseLocally"/>, which fan out through this node's one room
/// index and never wait.
/// </summary>
/// <remarks>
/// Register an implementation as a singleton <see cref="RealtimeBackplane"/> before <c>AddRealtime</c>, or replace the default after it.
/// One instance serves one <see cref="RealtimeServer"/>. Members may be called concurrently, also for the same room; the server
/// orders a room's subscribe and unsubscribe calls (the next starts after the previous one completed).
/// </remarks>
public abstract class RealtimeBackplane
{
    private LocalNode? _node;

    /// <summary>Creates a backplane.</summary>
    /// <param name="nodeId">This node's id in the cluster; <see langword="null"/> for a new random one.</param>
    protected RealtimeBackplane(string? nodeId = null)
    {
        NodeId = nodeId ?? ConnectionId.New();
    }

    /// <summary>This node's id, unique in the cluster (the <see cref="RoomBroadcast.OriginNodeId"/> of what is sent here).</summary>
    public string NodeId { get; }

    /// <summary>Starts receiving a room's broadcasts on this node: its first member here is joining.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the subscription attempt.</param>
    /// <returns>Completes once broadcasts published after it are sure to reach this node; a failure refuses the joining connection (1011).</returns>
    public abstract ValueTask SubscribeAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Stops receiving a room's broadcasts: its last member here has left.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Completes when unsubscribed; a failure is logged.</returns>
    public abstract ValueTask UnsubscribeAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Sends a broadcast to every member of its room on every node (this one included, through <see cref="DeliverLocally"/>).</summary>
    /// <param name="broadcast">The broadcast.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>Completes when the broadcast is accepted for delivery; a failure reaches the caller of <see cref="RealtimeServer.BroadcastAsync"/>.</returns>
    public abstract ValueTask PublishAsync(RoomBroadcast broadcast, CancellationToken cancellationToken);

    /// <summary>Sends a message to a connection that is not on this node.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns><see langword="true"/> when the connection was found and the message queued to it; <see langword="false"/> when no node has it.</returns>
    public abstract ValueTask<bool> SendAsync(string connectionId, Message message, CancellationToken cancellationToken);

    /// <summary>Closes a connection that is not on this node (as <see cref="ServerConnection.Close"/> does).</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns><see langword="true"/> when the connection was found; <see langword="false"/> when no node has it.</returns>
    public abstract ValueTask<bool> CloseAsync(string connectionId, CancellationToken cancellationToken);

    /// <summary>
    /// A connection is joining a room on this node: called before the room's subscription (<see cref="SubscribeAsync"/>, on the room's
    /// first join here) and before the connection's <c>welcome</c>. When the join then fails, <see cref="RemoveMemberAsync"/> follows.
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Completes when the cluster's membership counts it.</returns>
    public abstract ValueTask AddMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken);

    /// <summary>A connection left a room on this node (before its <c>LeaveRoom</c> hooks run).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Completes when the cluster's membership no longer counts it; a failure is logged.</returns>
    public abstract ValueTask RemoveMemberAsync(string roomId, string connectionId, CancellationToken cancellationToken);

    /// <summary>The rooms with members on any node.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    public abstract ValueTask<IReadOnlyCollection<string>> GetRoomsAsync(CancellationToken cancellationToken);

    /// <summary>The ids of a room's members on every node.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public abstract ValueTask<IReadOnlyCollection<string>> GetConnectionIdsAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>The number of a room's members on every node.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public virtual async ValueTask<int> GetRoomConnectionCountAsync(string roomId, CancellationToken cancellationToken)
        => (await GetConnectionIdsAsync(roomId, cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>The number of accepted connections on every node.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    public abstract ValueTask<int> GetConnectionCountAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The nodes of the cluster with their connection and room counts, for the status page (<c>MapRealtimeStatus</c>). The default is
    /// this node alone, counted now; a backplane with a heartbeat (Redis) overrides it with every live node, as of its last heartbeat.
    /// </summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>A snapshot, in no particular order.</returns>
    public virtual ValueTask<IReadOnlyList<RealtimeNodeStatus>> GetNodesAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult<IReadOnlyList<RealtimeNodeStatus>>([new RealtimeNodeStatus(NodeId, LocalConnectionCount, LocalRoomCount, lastHeartbeat: null)]);

    /// <summary>
    /// Sets a feature's state of one connection in a room (<see cref="RealtimeFeature"/>), for the whole cluster. A backplane that
    /// serves features (presence, for one) overrides the three member-state methods, and drops a room's entries when its last member
    /// in the cluster leaves; the defaults throw <see cref="NotSupportedException"/>, so a feature on a backplane without them fails
    /// loudly instead of keeping one node's view. (The in-memory backplane keeps them in memory.)
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="feature">The feature's name.</param>
    /// <param name="connectionId">The connection.</param>
    /// <param name="state">The state's bytes, stored as they are.</param>
    /// <param name="maxEntries">The most entries of this feature in the room: a new one beyond it is refused.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Whether the entry was added, replaced or refused.</returns>
    public virtual ValueTask<MemberStateChange> SetMemberStateAsync(string roomId, string feature, string connectionId, ReadOnlyMemory<byte> state, int maxEntries,
                                                                    CancellationToken cancellationToken)
        => throw MemberStatesNotSupported();

    /// <summary>Removes a feature's state of one connection in a room, for the whole cluster (see <see cref="SetMemberStateAsync"/>).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="feature">The feature's name.</param>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns><see langword="true"/> when there was one; of concurrent callers, one only. Nothing is removed, and <see langword="false"/>
    /// returned, when the connection id is a member of the room on another node now (a client that keeps its id came back there).</returns>
    public virtual ValueTask<bool> RemoveMemberStateAsync(string roomId, string feature, string connectionId, CancellationToken cancellationToken)
        => throw MemberStatesNotSupported();

    /// <summary>A feature's states in a room, for the whole cluster: connection id to state (see <see cref="SetMemberStateAsync"/>).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="feature">The feature's name.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>A snapshot.</returns>
    public virtual ValueTask<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> GetMemberStatesAsync(string roomId, string feature, CancellationToken cancellationToken)
        => throw MemberStatesNotSupported();

    /// <summary>
    /// Connections of another node left a room because that node stopped answering: this node's features are told
    /// (<see cref="RealtimeFeature.OnLeaveAsync"/>, without a connection), so that, say, their presence is removed for everyone. Call it on
    /// one node of the cluster for each lost membership (the node that removed it). Never waits.
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="connectionIds">The connections that left it.</param>
    protected void MembersLost(string roomId, IReadOnlyCollection<string> connectionIds)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        ArgumentNullException.ThrowIfNull(connectionIds);
        Node.Features.MembersLost(roomId, [.. connectionIds.Where(id => Node.Find(id) is null)]); // an id back on this node is the newer connection's
    }

    /// <summary>
    /// Reads a room's broadcasts after <paramref name="after"/>, for a client that reconnects and recovers (docs/recovery.md). A
    /// backplane that numbers its rooms' broadcasts itself (it sets <see cref="RoomBroadcast.Position"/> on what it delivers) and keeps
    /// them (Redis keeps each room's log) overrides it, so that a client recovers on any node; the default keeps nothing and answers
    /// <see langword="null"/>, and this node's own history of the room is all there is.
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="after">The last position the client received.</param>
    /// <param name="maxMessages">The most broadcasts to return: more were missed, and the answer is <see langword="null"/>.</param>
    /// <param name="maxAge">How old the oldest broadcast returned may be: an older one was missed, and the answer is <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>
    /// Every broadcast after <paramref name="after"/> through the room's latest, in order, each with its <see cref="RoomBroadcast.Position"/>
    /// (an empty list when nothing was missed); <see langword="null"/> when that cannot be given whole: another epoch, a position
    /// the room never reached, or broadcasts the log no longer holds.
    /// </returns>
    public virtual ValueTask<IReadOnlyList<RoomBroadcast>?> ReadHistoryAsync(string roomId, RoomPosition after, int maxMessages, TimeSpan maxAge,
                                                                            CancellationToken cancellationToken)
        => ValueTask.FromResult<IReadOnlyList<RoomBroadcast>?>(null);

    /// <summary>
    /// Claims the resume of a former connection, for the client that reconnects with its token: single use across the cluster.
    /// The default serves one node, in memory; a backplane that shares rooms across nodes overrides it and
    /// <see cref="ConnectionEndedAsync"/> together, in its shared store.
    /// </summary>
    /// <param name="connectionId">The former connection's id (the token named it, and its signature was checked).</param>
    /// <param name="window">How long after its end a connection may be resumed (<see cref="RecoveryOptions.MaxAge"/>).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Whether it may be resumed now; after <see cref="ResumeClaim.Claimed"/> or <see cref="ResumeClaim.ClaimedLive"/>, never again.</returns>
    public virtual ValueTask<ResumeClaim> ClaimResumeAsync(string connectionId, TimeSpan window, CancellationToken cancellationToken)
        => ValueTask.FromResult(Node.ResumeClaims.Claim(connectionId, window, live: Node.Find(connectionId) is not null));

    /// <summary>
    /// A connection that holds a resume token ended on this node: it may be resumed for <paramref name="window"/> from now, unless it
    /// was claimed already (then it stays claimed).
    /// </summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="window">How long it may be resumed (<see cref="RecoveryOptions.MaxAge"/>).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Completes when recorded; a failure is logged (the client is then not recovered).</returns>
    public virtual ValueTask ConnectionEndedAsync(string connectionId, TimeSpan window, CancellationToken cancellationToken)
    {
        Node.ResumeClaims.Ended(connectionId, window);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The secret that signs resume tokens, the same on every node of the cluster (a token issued on one node is checked on another).
    /// The default is 32 random bytes of this process; a backplane that shares rooms across nodes overrides it with one secret kept
    /// in its shared store.
    /// </summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>At least 32 bytes.</returns>
    public virtual ValueTask<ReadOnlyMemory<byte>> GetResumeKeyAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult(Node.ResumeClaims.LocalKey);

    /// <summary>
    /// Tells this node where a room's broadcasts stand when it starts receiving them: the broadcasts it delivers from now on follow
    /// <paramref name="position"/>. A backplane that numbers broadcasts calls it after a room's subscription (before
    /// <see cref="SubscribeAsync"/> completes), so that a client joining the room is given its position at once. Never waits.
    /// </summary>
    /// <param name="roomId">The room.</param>
    /// <param name="position">The position of the last broadcast published before this node received the room's (sequence 0 for none).</param>
    protected void HistoryStarts(string roomId, RoomPosition position)
    {
        ArgumentNullException.ThrowIfNull(roomId);
        Node.HistoryStarts(roomId, position);
    }

    /// <summary>The member states this node keeps in memory, for the in-memory backplane.</summary>
    internal MemberStateStore LocalMemberStates => Node.MemberStates;

    private NotSupportedException MemberStatesNotSupported()
        => new($"{GetType().Name} keeps no member states: a backplane that serves features such as presence overrides SetMemberStateAsync, RemoveMemberStateAsync and GetMemberStatesAsync.");

    /// <summary>The rooms with members on this node (a snapshot).</summary>
    protected IReadOnlyCollection<string> LocalRooms => Node.Rooms.RoomIds;

    /// <summary>The number of accepted connections on this node.</summary>
    protected int LocalConnectionCount => Node.ConnectionCount;

    /// <summary>The number of rooms with members on this node (a counter read: no snapshot, no lock; the <c>realtime.server.rooms</c> metric's value).</summary>
    protected int LocalRoomCount => Node.Rooms.Count;

    /// <summary>The ids of a room's members on this node (a snapshot).</summary>
    /// <param name="roomId">The room.</param>
    protected IReadOnlyCollection<string> GetLocalConnectionIds(string roomId) => Node.GetMemberIds(roomId);

    /// <summary>
    /// Queues a broadcast to this node's members of its room, except <see cref="RoomBroadcast.ExceptConnectionId"/>, under the room's
    /// lock: all broadcasts delivered to a room on this node are in one order. Never waits: a member whose queue is full is closed
    /// with 4003. Never throws for the message: a member whose wire protocol cannot send it (larger than clients accept in that
    /// protocol, or a type it cannot carry) is skipped and that is logged; every other member gets it.
    /// </summary>
    /// <param name="broadcast">The broadcast.</param>
    protected void DeliverLocally(RoomBroadcast broadcast)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        Node.Deliver(broadcast);
    }

    /// <summary>Queues a message to a connection on this node.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="message">The message.</param>
    /// <returns><see langword="false"/> when no connection on this node has that id connected (none has it, or it is still joining its room, or closing).</returns>
    protected bool SendLocally(string connectionId, Message message)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return Node.Send(connectionId, message);
    }

    /// <summary>Closes a connection on this node (<see cref="DisconnectReason.ServerDisconnect"/>, 4000).</summary>
    /// <param name="connectionId">The connection.</param>
    /// <returns><see langword="false"/> when no connection on this node has that id.</returns>
    protected bool CloseLocally(string connectionId)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        return Node.Close(connectionId);
    }

    private LocalNode Node => _node ?? throw new InvalidOperationException("This backplane is not attached to a RealtimeServer yet.");

    /// <summary>Connects this backplane to the node it serves (once).</summary>
    internal void Attach(LocalNode node)
    {
        if (Interlocked.CompareExchange(ref _node, node, null) is not null)
        {
            throw new InvalidOperationException("A RealtimeBackplane serves one RealtimeServer; register a new instance for each.");
        }
    }
}
