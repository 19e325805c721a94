namespace Realtime.Server;

/// <summary>One node of the cluster as the status page shows it (<see cref="RealtimeBackplane.GetNodesAsync"/>).</summary>
public sealed class RealtimeNodeStatus
{
    /// <summary>Creates a node's status.</summary>
    /// <param name="nodeId">The node's id (<see cref="RealtimeBackplane.NodeId"/>).</param>
    /// <param name="connections">Its accepted connections.</param>
    /// <param name="rooms">Its rooms with members.</param>
    /// <param name="lastHeartbeat">When it last said it was alive, or <see langword="null"/> when the backplane has no heartbeat (one node).</param>
    public RealtimeNodeStatus(string nodeId, int connections, int rooms, DateTimeOffset? lastHeartbeat)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        NodeId = nodeId;
        Connections = connections;
        Rooms = rooms;
        LastHeartbeat = lastHeartbeat;
    }

    /// <summary>The node's id.</summary>
    public string NodeId { get; }

    /// <summary>Its accepted connections, as of <see cref="LastHeartbeat"/> (now, for this node without a heartbeat).</summary>
    public int Connections { get; }

    /// <summary>Its rooms with members, as of <see cref="LastHeartbeat"/>.</summary>
    public int Rooms { get; }

    /// <summary>When it last said it was alive (in the backplane's clock), or <see langword="null"/> when the backplane has no heartbeat.</summary>
    public DateTimeOffset? LastHeartbeat { get; }
}
