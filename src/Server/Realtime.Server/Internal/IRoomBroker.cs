using Realtime.Internal;

namespace Realtime.Server.Internal;

/// <summary>
/// The one seam between the server and room fan-out. <see cref="LocalRoomBroker"/> serves one node;
/// a scale-out backplane (Redis) implements the same contract. Membership is always local: a
/// broker only decides where a broadcast goes.
/// </summary>
internal interface IRoomBroker
{
    /// <summary>Names of the rooms with members on this node (a snapshot).</summary>
    IReadOnlyCollection<string> Rooms { get; }

    /// <summary>
    /// Adds the connection to its room and queues <paramref name="welcome"/> to it in the same step, ordered with the
    /// room's broadcasts: every broadcast then reaches the connection after its welcome, or not at all.
    /// </summary>
    /// <returns><see langword="true"/> when the room was created on this node by this join.</returns>
    bool Join(ServerConnection connection, OutboundFrame welcome);

    /// <summary>Removes the connection from its room.</summary>
    /// <returns><see langword="true"/> when the room became empty and was removed.</returns>
    bool Leave(ServerConnection connection);

    /// <summary>Whether the room has members that a broadcast would reach.</summary>
    bool HasMembers(string roomId);

    /// <summary>The members of a room on this node (a snapshot).</summary>
    IReadOnlyCollection<ServerConnection> GetConnections(string roomId);

    /// <summary>Queues the same encoded frame to every member of the room except <paramref name="except"/>, in one total order per room.</summary>
    void Broadcast(string roomId, OutboundFrame frame, ServerConnection? except);
}
