using Realtime.Server.Internal.Recovery;

namespace Realtime.Server.Internal;

/// <summary>One room of a <see cref="RoomIndex{TMember}"/> on this node: its members, in a list where each knows its slot, under its lock.</summary>
/// <typeparam name="TMember">The member type.</typeparam>
/// <param name="id">The room's id.</param>
/// <param name="history">Its history, when it keeps one: then the history's lock is the room's.</param>
internal sealed class IndexedRoom<TMember>(string id, RoomHistory? history)
    where TMember : class, IRoomMember
{
    public readonly Lock Gate = history?.Gate ?? new Lock(); // a room that keeps a history shares its lock
    public readonly List<TMember> Members = [];
    public readonly string Id = id;
    public readonly RoomHistory? History = history;
    public Task Ready = Task.CompletedTask;
    public int Count;
    public bool Removed;
    public bool Entered;

    /// <summary>Under <see cref="Gate"/>, its first frames queued (its <c>welcome</c>, and a replay): adds the member, which is then open (<see cref="IRoomMember.Joined"/>).</summary>
    /// <param name="member">The member.</param>
    /// <param name="roomsWithMembers">The index's count of rooms with members, incremented by a room's first member.</param>
    /// <returns>Whether this join created the room on this node.</returns>
    public bool Join(TMember member, ref int roomsWithMembers)
    {
        member.RoomSlot = Members.Count;
        Members.Add(member);
        Volatile.Write(ref Count, Members.Count);
        if (Members.Count == 1)
        {
            Interlocked.Increment(ref roomsWithMembers);
        }

        bool created = !Entered;
        Entered = true;
        member.Joined(); // open from the moment its welcome is queued: a Send from now on follows it
        return created;
    }

    /// <summary>Under <see cref="Gate"/>: removes a member in O(1): the last member moves into its slot. (Broadcast order among members means nothing.)</summary>
    public bool RemoveMember(TMember member)
    {
        int slot = member.RoomSlot;
        if ((uint)slot >= (uint)Members.Count || !ReferenceEquals(Members[slot], member))
        {
            return false;
        }

        int last = Members.Count - 1;
        TMember moved = Members[last];
        Members[slot] = moved;
        moved.RoomSlot = slot;
        Members.RemoveAt(last);
        member.RoomSlot = -1;
        return true;
    }
}
