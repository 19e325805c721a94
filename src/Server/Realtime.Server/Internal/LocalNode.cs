using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Realtime.Server.Diagnostics;

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

    public LocalNode(RealtimeOptions options, RealtimeBackplane backplane, ILogger logger)
    {
        _maxFrameBytes = MessageSize.Limit(options);
        _logger = logger;
        Rooms = new RoomIndex<ServerConnection>(
            roomId => backplane.SubscribeAsync(roomId, CancellationToken.None),
            roomId => backplane.UnsubscribeAsync(roomId, CancellationToken.None),
            (roomId, ex) => RealtimeLog.UnsubscribeFailed(logger, roomId, ex));
    }

    public RoomIndex<ServerConnection> Rooms { get; }

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
        ServerConnection? except = broadcast.ExceptConnectionId is { } id ? Find(id) : null;
        if (Rooms.Deliver(broadcast, except, _maxFrameBytes, out string? problem) is > 0 and int skipped)
        {
            RealtimeLog.BroadcastNotEncodable(_logger, broadcast.RoomId, skipped, problem!);
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
