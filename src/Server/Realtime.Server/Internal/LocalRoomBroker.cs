using Realtime.Internal;

namespace Realtime.Server.Internal;

/// <summary>The single-node <see cref="IRoomBroker"/>: fan-out straight from the <see cref="RoomIndex{TMember}"/>.</summary>
internal sealed class LocalRoomBroker : IRoomBroker
{
    private readonly RoomIndex<ServerConnection> _index = new();

    public IReadOnlyCollection<string> Rooms => _index.RoomIds;

    public bool Join(ServerConnection connection, OutboundFrame welcome) => _index.Add(connection, welcome);

    public bool Leave(ServerConnection connection) => _index.Remove(connection);

    public bool HasMembers(string roomId) => _index.HasMembers(roomId);

    public IReadOnlyCollection<ServerConnection> GetConnections(string roomId) => _index.GetMembers(roomId);

    public void Broadcast(string roomId, OutboundFrame frame, ServerConnection? except) => _index.Broadcast(roomId, frame, except);
}
