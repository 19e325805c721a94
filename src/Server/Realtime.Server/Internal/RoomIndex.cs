using System.Collections.Concurrent;
using Realtime.Internal;

namespace Realtime.Server.Internal;

/// <summary>
/// Rooms on this node: room id to members. A v1 connection belongs to exactly one room for its
/// whole life, so the member-to-room direction is the member's own <see cref="IRoomMember.RoomId"/>,
/// and each member keeps its index in its room's list (<see cref="IRoomMember.RoomSlot"/>): leaving is
/// O(1), also in a room of 100 000 members, and emptying a room is O(n), not O(n²).
/// </summary>
/// <typeparam name="TMember">The member type (<see cref="ServerConnection"/>; tests use their own).</typeparam>
internal sealed class RoomIndex<TMember>
    where TMember : class, IRoomMember
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> RoomIds => (IReadOnlyCollection<string>)_rooms.Keys;

    /// <summary>Adds a member, queuing its first frame under the room's lock so that no broadcast can precede it.</summary>
    public bool Add(TMember connection, OutboundFrame first)
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
                connection.RoomSlot = room.Members.Count;
                room.Members.Add(connection);
                return room.Members.Count == 1;
            }
        }
    }

    public bool Remove(TMember connection)
    {
        if (!_rooms.TryGetValue(connection.RoomId, out Room? room))
        {
            return false;
        }

        lock (room.Gate)
        {
            if (!RemoveMember(room.Members, connection) || room.Members.Count > 0)
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

    public IReadOnlyCollection<TMember> GetMembers(string roomId)
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
    public void Broadcast(string roomId, OutboundFrame frame, TMember? except)
    {
        if (!_rooms.TryGetValue(roomId, out Room? room))
        {
            return;
        }

        // The lock is held only across synchronous TryWrite calls, never across an await.
        lock (room.Gate)
        {
            foreach (TMember member in room.Members)
            {
                if (!ReferenceEquals(member, except))
                {
                    member.Enqueue(frame);
                }
            }
        }
    }

    /// <summary>Removes a member in O(1): the last member moves into its slot. (Broadcast order among members means nothing.)</summary>
    private static bool RemoveMember(List<TMember> members, TMember member)
    {
        int slot = member.RoomSlot;
        if ((uint)slot >= (uint)members.Count || !ReferenceEquals(members[slot], member))
        {
            return false;
        }

        int last = members.Count - 1;
        TMember moved = members[last];
        members[slot] = moved;
        moved.RoomSlot = slot;
        members.RemoveAt(last);
        member.RoomSlot = -1;
        return true;
    }

    private sealed class Room(string id)
    {
        public readonly Lock Gate = new();
        public readonly List<TMember> Members = [];
        public readonly string Id = id;
        public bool Removed;
    }
}
