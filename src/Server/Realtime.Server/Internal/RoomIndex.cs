using System.Collections.Concurrent;
using Realtime.Internal;

namespace Realtime.Server.Internal;

/// <summary>
/// Rooms on this node: room id to members. A v1 connection belongs to exactly one room for its
/// whole life, so the member-to-room direction is the connection's own <see cref="ServerConnection.RoomId"/>
/// and leaving is O(1) in the connection's rooms.
/// </summary>
internal sealed class RoomIndex
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> RoomIds => (IReadOnlyCollection<string>)_rooms.Keys;

    /// <summary>Adds a member, queuing its first frame under the room's lock so that no broadcast can precede it.</summary>
    public bool Add(ServerConnection connection, OutboundFrame first)
    {
        while (true)
        {
            Room room = _rooms.GetOrAdd(connection.RoomId, static id => new Room(id));
            lock (room.Gate)
            {
                // A room emptied and removed by a concurrent Remove is dead: retry with a fresh one.
                if (room.Removed)
                {
                    continue;
                }

                connection.Enqueue(first);
                room.Members.Add(connection);
                return room.Members.Count == 1;
            }
        }
    }

    public bool Remove(ServerConnection connection)
    {
        if (!_rooms.TryGetValue(connection.RoomId, out Room? room))
        {
            return false;
        }

        lock (room.Gate)
        {
            if (!room.Members.Remove(connection) || room.Members.Count > 0)
            {
                return false;
            }

            // Remove the empty room atomically with respect to joins: they hold the same lock and retry on Removed.
            room.Removed = true;
            _rooms.TryRemove(new KeyValuePair<string, Room>(room.Id, room));
            return true;
        }
    }

    public bool HasMembers(string roomId) => _rooms.TryGetValue(roomId, out Room? room) && room.Members.Count > 0;

    public IReadOnlyCollection<ServerConnection> GetMembers(string roomId)
    {
        if (!_rooms.TryGetValue(roomId, out Room? room))
        {
            return [];
        }

        lock (room.Gate)
        {
            return room.Members.ToArray();
        }
    }

    /// <summary>Queues a frame to every member under the room's lock, so that all broadcasts in a room are totally ordered.</summary>
    public void Broadcast(string roomId, OutboundFrame frame, ServerConnection? except)
    {
        if (!_rooms.TryGetValue(roomId, out Room? room))
        {
            return;
        }

        // The lock is held only across synchronous TryWrite calls, never across an await.
        lock (room.Gate)
        {
            foreach (ServerConnection member in room.Members)
            {
                if (!ReferenceEquals(member, except))
                {
                    member.Enqueue(frame);
                }
            }
        }
    }

    private sealed class Room(string id)
    {
        public readonly Lock Gate = new();
        public readonly List<ServerConnection> Members = [];
        public readonly string Id = id;
        public bool Removed;
    }
}
