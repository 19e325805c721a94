using System.Collections.Concurrent;
using Realtime.Internal;

namespace Realtime.Server.Internal;

/// <summary>
/// Rooms on this node: room id to members, the one index every backplane fans out through. A connection belongs to exactly one
/// room for its whole life, so the member-to-room direction is the member's own <see cref="IRoomMember.RoomId"/>, and each member
/// keeps its index in its room's list (<see cref="IRoomMember.RoomSlot"/>): leaving is O(1), and emptying a room is O(n).
/// </summary>
/// <remarks>
/// A room's first join on this node subscribes it (through the backplane) and its last leave unsubscribes it. Joiners await the
/// subscription before they are added; a room's subscribe starts only after its previous unsubscribe completed, so the two never
/// overtake each other. With the in-memory backplane both complete at once and nothing here allocates or waits.
/// </remarks>
/// <typeparam name="TMember">The member type (<see cref="ServerConnection"/>; tests use their own).</typeparam>
internal sealed class RoomIndex<TMember>
    where TMember : class, IRoomMember
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> _unsubscribing = new(StringComparer.Ordinal);
    private readonly Lock _transitions = new(); // room creation and removal only (rare); taken after a room's Gate, never before
    private readonly Func<string, ValueTask> _subscribe;
    private readonly Func<string, ValueTask> _unsubscribe;
    private readonly Action<string, Exception> _unsubscribeFailed;
    private int _count; // rooms with members: changed when a room gets its first member or is removed, never by a broadcast

    /// <summary>An index whose rooms need no subscription (one node).</summary>
    public RoomIndex()
        : this(static _ => ValueTask.CompletedTask, static _ => ValueTask.CompletedTask, static (_, _) => { })
    {
    }

    public RoomIndex(Func<string, ValueTask> subscribe, Func<string, ValueTask> unsubscribe, Action<string, Exception> unsubscribeFailed)
    {
        _subscribe = subscribe;
        _unsubscribe = unsubscribe;
        _unsubscribeFailed = unsubscribeFailed;
    }

    /// <summary>How many rooms have members (without a snapshot, and without a lock).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The rooms with members (a snapshot).</summary>
    public IReadOnlyCollection<string> RoomIds
    {
        get
        {
            var ids = new List<string>();
            foreach (KeyValuePair<string, Room> pair in _rooms)
            {
                if (Volatile.Read(ref pair.Value.Count) > 0)
                {
                    ids.Add(pair.Key);
                }
            }

            return ids;
        }
    }

    /// <summary>Each room with members and its member count, read without taking a room's lock (for the status page).</summary>
    public IEnumerable<KeyValuePair<string, int>> MemberCounts()
    {
        foreach (KeyValuePair<string, Room> pair in _rooms)
        {
            int count = Volatile.Read(ref pair.Value.Count);
            if (count > 0)
            {
                yield return new KeyValuePair<string, int>(pair.Key, count);
            }
        }
    }

    /// <summary>
    /// Adds a member once its room is subscribed on this node, queuing its first frame under the room's lock so that no broadcast
    /// can precede it.
    /// </summary>
    /// <returns><see langword="true"/> when this join created the room on this node.</returns>
    /// <exception cref="Exception">The room's subscription failed (the member was not added).</exception>
    public async ValueTask<bool> AddAsync(TMember member, OutboundFrame first)
    {
        while (true)
        {
            Room room = GetOrCreate(member.RoomId);
            Task ready = room.Ready;
            if (!ready.IsCompletedSuccessfully)
            {
                try
                {
                    await ready.ConfigureAwait(false);
                }
                catch
                {
                    Discard(room);
                    throw;
                }
            }

            lock (room.Gate)
            {
                // A room emptied and removed by a concurrent Remove is dead: retry with a fresh one.
                if (room.Removed)
                {
                    continue;
                }

                member.Enqueue(first);
                member.RoomSlot = room.Members.Count;
                room.Members.Add(member);
                Volatile.Write(ref room.Count, room.Members.Count);
                if (room.Members.Count == 1)
                {
                    Interlocked.Increment(ref _count);
                }

                bool created = !room.Entered;
                room.Entered = true;
                return created;
            }
        }
    }

    /// <summary>Removes a member; the last one removes the room and unsubscribes it.</summary>
    /// <returns><see langword="true"/> when the room became empty and was removed.</returns>
    public bool Remove(TMember member)
    {
        if (!_rooms.TryGetValue(member.RoomId, out Room? room))
        {
            return false;
        }

        lock (room.Gate)
        {
            if (!RemoveMember(room.Members, member))
            {
                return false;
            }

            Volatile.Write(ref room.Count, room.Members.Count);
            if (room.Members.Count > 0)
            {
                return false;
            }

            // Remove the empty room atomically with respect to joins: they hold the same lock and retry on Removed.
            room.Removed = true;
            Interlocked.Decrement(ref _count);
            lock (_transitions)
            {
                _rooms.TryRemove(new KeyValuePair<string, Room>(room.Id, room));
                Unsubscribe(room.Id);
            }

            return true;
        }
    }

    /// <summary>The members of a room (a snapshot).</summary>
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

    /// <summary>
    /// Queues a broadcast to every member but <paramref name="except"/> under the room's lock, so that all broadcasts in a room are
    /// totally ordered. The bytes are encoded once per protocol, at its first member, and shared: nothing is allocated per member.
    /// A member whose protocol cannot send it (too large in that protocol, or a type it cannot carry) is skipped; every other
    /// member still gets it.
    /// </summary>
    /// <param name="broadcast">The broadcast.</param>
    /// <param name="except">The member that does not get it, or <see langword="null"/>.</param>
    /// <param name="maxFrameBytes">The limit of a protocol v1 frame.</param>
    /// <param name="channelMask">0 for every member; otherwise only the members in that channel get it (<see cref="IRoomMember.InChannel"/>).</param>
    /// <param name="recipients">The number of members it was queued to.</param>
    /// <param name="problem">Why members were skipped.</param>
    /// <returns>The number of members skipped, with the reason in <paramref name="problem"/>; 0 when every member got it.</returns>
    public int Deliver(RoomBroadcast broadcast, TMember? except, long maxFrameBytes, int channelMask, out int recipients, out string? problem)
    {
        problem = null;
        recipients = 0;
        if (!_rooms.TryGetValue(broadcast.RoomId, out Room? room))
        {
            return 0;
        }

        int skipped = 0;

        // The lock is held only across synchronous TryWrite calls, never across an await.
        lock (room.Gate)
        {
            foreach (TMember member in room.Members)
            {
                if (ReferenceEquals(member, except) || (channelMask != 0 && !member.InChannel(channelMask)))
                {
                    continue;
                }

                EncodedMessage encoded = broadcast.EncodedFor(member.Protocol, maxFrameBytes);
                if (encoded.Problem is null)
                {
                    recipients++;
                    if (channelMask == 0)
                    {
                        member.Enqueue(encoded.Frame);
                    }
                    else
                    {
                        member.EnqueueInChannel(channelMask, encoded.Frame);
                    }
                }
                else
                {
                    problem = encoded.Problem;
                    skipped++;
                }
            }
        }

        return skipped;
    }

    private Room GetOrCreate(string roomId)
    {
        if (_rooms.TryGetValue(roomId, out Room? room))
        {
            return room;
        }

        lock (_transitions)
        {
            if (_rooms.TryGetValue(roomId, out room))
            {
                return room;
            }

            room = new Room(roomId);
            room.Ready = _unsubscribing.TryGetValue(roomId, out Pending? previous) ? SubscribeAfterAsync(previous.Task!, roomId) : Subscribe(roomId);
            _rooms[roomId] = room;
            return room;
        }
    }

    private Task Subscribe(string roomId)
    {
        try
        {
            ValueTask subscribe = _subscribe(roomId);
            return subscribe.IsCompletedSuccessfully ? Task.CompletedTask : subscribe.AsTask();
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private async Task SubscribeAfterAsync(Task previous, string roomId)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _subscribe(roomId).ConfigureAwait(false);
    }

    /// <summary>A room whose subscription failed has no members: remove it, so that the next join tries again.</summary>
    private void Discard(Room room)
    {
        lock (room.Gate)
        {
            if (room.Removed || room.Members.Count > 0)
            {
                return;
            }

            room.Removed = true;
            lock (_transitions)
            {
                _rooms.TryRemove(new KeyValuePair<string, Room>(room.Id, room));
            }
        }
    }

    /// <summary>Under <see cref="_transitions"/>: starts the unsubscription; one still running delays the room's next subscription.</summary>
    private void Unsubscribe(string roomId)
    {
        ValueTask unsubscribe;
        try
        {
            unsubscribe = _unsubscribe(roomId);
        }
        catch (Exception ex)
        {
            _unsubscribeFailed(roomId, ex);
            return;
        }

        if (unsubscribe.IsCompletedSuccessfully)
        {
            return;
        }

        var pending = new Pending();
        _unsubscribing[roomId] = pending;
        pending.Task = AwaitUnsubscribeAsync(roomId, unsubscribe, pending);
    }

    private async Task AwaitUnsubscribeAsync(string roomId, ValueTask unsubscribe, Pending pending)
    {
        try
        {
            await unsubscribe.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _unsubscribeFailed(roomId, ex);
        }
        finally
        {
            lock (_transitions)
            {
                if (_unsubscribing.TryGetValue(roomId, out Pending? current) && ReferenceEquals(current, pending))
                {
                    _unsubscribing.Remove(roomId);
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
        public Task Ready = Task.CompletedTask;
        public int Count;
        public bool Removed;
        public bool Entered;
    }

    private sealed class Pending
    {
        public Task? Task;
    }
}
