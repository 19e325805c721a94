using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Realtime.Server.Diagnostics;
using Realtime.Server.Internal.Features;

namespace Realtime.Server.Internal;

/// <summary>
/// This node's share of the cluster: its accepted connections by id and its room index. A backplane reaches it through the
/// protected members of <see cref="RealtimeBackplane"/>; the server through <see cref="RealtimeServer"/>.
/// </summary>
internal sealed class LocalNode
{
    private readonly ConcurrentDictionary<string, ServerConnection> _connections = new(StringComparer.Ordinal);
    private readonly long _maxFrameBytes;
    private readonly ILogger _logger;
    private readonly RealtimeMetrics _metrics;
    private long _skipLoggedAt; // Environment.TickCount64 of the last BroadcastNotEncodable, 0 before the first
    private int _skippedSinceLog;

    public LocalNode(RealtimeOptions options, RealtimeBackplane backplane, ILogger logger, RealtimeMetrics metrics)
    {
        _metrics = metrics;
        _maxFrameBytes = MessageSize.Limit(options);
        _logger = logger;
        Features = new FeatureSet(logger);
        Rooms = new RoomIndex<ServerConnection>(
            roomId => backplane.SubscribeAsync(roomId, CancellationToken.None),
            roomId => backplane.UnsubscribeAsync(roomId, CancellationToken.None),
            (roomId, ex) => RealtimeLog.UnsubscribeFailed(logger, roomId, ex),
            new Recovery.HistoryPolicy(options.Recovery, _maxFrameBytes, now: null, maxBytes: options.MaxQueuedBytes));
        ResumeTokens = new Recovery.ResumeTokens(backplane);
        metrics.ObserveRooms(() => Rooms.Count);
    }

    public RoomIndex<ServerConnection> Rooms { get; }

    /// <summary>The features registered on this node's server.</summary>
    public FeatureSet Features { get; }

    /// <summary>Features' member states, for a backplane that keeps them in memory (the in-memory one).</summary>
    public MemberStateStore MemberStates { get; } = new();

    /// <summary>Resume claims and this process's token secret, for a backplane that keeps the defaults (the in-memory one).</summary>
    public Recovery.ResumeClaimStore ResumeClaims { get; } = new();

    /// <summary>Resume tokens, signed with the backplane's key.</summary>
    public Recovery.ResumeTokens ResumeTokens { get; }

    /// <summary>A backplane that numbers broadcasts says where a room's broadcasts on this node start (<see cref="RealtimeBackplane"/>).</summary>
    public void HistoryStarts(string roomId, RoomPosition position) => Rooms.HistoryStarts(roomId, position);

    /// <summary>The largest encoded application frame clients accept (<see cref="MessageSize.Limit"/>).</summary>
    public long MaxFrameBytes => _maxFrameBytes;

    public int ConnectionCount => _connections.Count;

    /// <summary>The accepted connections; enumerating takes no lock and copies nothing.</summary>
    public ConcurrentDictionary<string, ServerConnection> Connections => _connections;

    public ServerConnection? Find(string connectionId) => _connections.TryGetValue(connectionId, out ServerConnection? connection) ? connection : null;

    /// <summary>Registers a connection under its id; a connection registered under the same id before is returned (it is replaced).</summary>
    public ServerConnection? Register(ServerConnection connection)
    {
        ServerConnection? replaced = null;
        _connections.AddOrUpdate(connection.Id, static (_, c) => c, (_, old, c) =>
        {
            replaced = old;
            return c;
        }, connection);
        return replaced == connection ? null : replaced;
    }

    public bool Unregister(ServerConnection connection) => _connections.TryRemove(new KeyValuePair<string, ServerConnection>(connection.Id, connection));

    /// <summary>Queues a broadcast to this node's members of its room; those whose protocol cannot send it are skipped, and that is logged.</summary>
    public void Deliver(RoomBroadcast broadcast)
    {
        int channelMask = 0;
        if (broadcast.Channel is { } channel && !Features.Channels.TryGet(channel, out channelMask))
        {
            return; // nobody on this node ever joined that channel
        }

        ServerConnection? except = broadcast.ExceptConnectionId is { } id ? Find(id) : null;
        int skipped = Rooms.Deliver(broadcast, except, _maxFrameBytes, channelMask, out int recipients, out string? problem);
        _metrics.Broadcast(recipients); // once per broadcast, however many members
        if (skipped > 0)
        {
            Skipped(broadcast.RoomId, skipped, problem!);
        }
    }

    /// <summary>Counts members a broadcast skipped, and says so in the log at most every 10 s (a room that does it routinely floods nothing).</summary>
    private void Skipped(string roomId, int members, string problem)
    {
        _metrics.MembersSkipped(members);
        Interlocked.Add(ref _skippedSinceLog, members);
        long now = Environment.TickCount64;
        long last = Volatile.Read(ref _skipLoggedAt);
        if ((last == 0 || now - last >= 10_000) && Interlocked.CompareExchange(ref _skipLoggedAt, now, last) == last)
        {
            RealtimeLog.BroadcastNotEncodable(_logger, roomId, Interlocked.Exchange(ref _skippedSinceLog, 0), problem);
        }
    }

    /// <summary>Queues a message to a connection on this node; <see langword="false"/> when none here has that id connected.</summary>
    public bool Send(string connectionId, Message message) => Find(connectionId) is { } connection && connection.SendMessage(message);

    public bool Close(string connectionId)
    {
        if (Find(connectionId) is not { } connection)
        {
            return false;
        }

        connection.Close();
        return true;
    }

    public IReadOnlyCollection<string> GetMemberIds(string roomId)
    {
        IReadOnlyCollection<ServerConnection> members = Rooms.GetMembers(roomId);
        var ids = new string[members.Count];
        int i = 0;
        foreach (ServerConnection member in members)
        {
            ids[i++] = member.Id;
        }

        return ids;
    }
}
