using System.Collections.Concurrent;
using Realtime.Internal;
using Realtime.Server.Internal.Recovery;

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
    private readonly ConcurrentDictionary<string, IndexedRoom<TMember>> _rooms = new(StringComparer.Ordinal);
    private readonly RoomSubscriptions _subscriptions;
    private readonly Lock _transitions; // room creation and removal only (rare); taken after a room's Gate, never before
    private readonly HistoryPolicy? _policy; // null when no room keeps a history
    private readonly RoomHistories? _histories; // rooms' histories, also of rooms left a moment ago
    private int _count; // rooms with members: changed when a room gets its first member or is removed, never by a broadcast

    /// <summary>An index whose rooms need no subscription (one node).</summary>
    public RoomIndex()
        : this(static _ => ValueTask.CompletedTask, static _ => ValueTask.CompletedTask, static (_, _) => { })
    {
    }

    /// <param name="subscribe">Subscribes a room on this node (its first join).</param>
    /// <param name="unsubscribe">Unsubscribes a room on this node (its last leave).</param>
    /// <param name="unsubscribeFailed">Logs a failed unsubscription.</param>
    /// <param name="histories">Which rooms keep a history, or <see langword="null"/> when none does.</param>
    public RoomIndex(Func<string, ValueTask> subscribe, Func<string, ValueTask> unsubscribe, Action<string, Exception> unsubscribeFailed,
                     HistoryPolicy? histories = null)
    {
        _subscriptions = new RoomSubscriptions(subscribe, unsubscribe, unsubscribeFailed);
        _transitions = _subscriptions.Gate;
        if (histories is { Enabled: true })
        {
            _policy = histories;
            _histories = new RoomHistories(histories, _transitions, (roomId, history) => _rooms.TryGetValue(roomId, out IndexedRoom<TMember>? room) && room.History == history);
        }
    }

    /// <summary>Which rooms keep a history, or <see langword="null"/> when none does.</summary>
    public HistoryPolicy? Histories => _policy;

    /// <summary>How many rooms have a history on this node (with members, or left less than the maximum age ago).</summary>
    public int HistoryCount => _histories?.Count ?? 0;

    /// <summary>A backplane that numbers broadcasts says where a room's broadcasts on this node start (<see cref="RoomHistory.Starts"/>).</summary>
    public void HistoryStarts(string roomId, RoomPosition position) => _histories?.Starts(roomId, position);

    /// <summary>Drops the histories of rooms left more than the maximum age ago (at most once a second; the heartbeat calls it).</summary>
    public void SweepHistories() => _histories?.Sweep();

    /// <summary>How many rooms have members (without a snapshot, and without a lock).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The rooms with members (a snapshot).</summary>
    public IReadOnlyCollection<string> RoomIds
    {
        get
        {
            var ids = new List<string>();
            foreach (KeyValuePair<string, IndexedRoom<TMember>> pair in _rooms)
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
        foreach (KeyValuePair<string, IndexedRoom<TMember>> pair in _rooms)
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
            IndexedRoom<TMember> room = GetOrCreate(member.RoomId);
            Task ready = room.Ready;
            if (!ready.IsCompletedSuccessfully)
            {
                await AwaitReadyAsync(room, ready).ConfigureAwait(false);
            }

            lock (room.Gate)
            {
                // A room emptied and removed by a concurrent Remove is dead: retry with a fresh one.
                if (room.Removed)
                {
                    continue;
                }

                member.Enqueue(first);
                return room.Join(member, ref _count);
            }
        }
    }

    /// <summary>
    /// Adds a member that asked for recovery (docs/protocol.md §3.1) once its room is subscribed: in a room that keeps a history, its
    /// <c>welcome</c> and, when it resumes, the broadcasts it missed (read from the backplane first when this node's history does
    /// not reach back far enough) are queued under the room's lock, before any newer broadcast.
    /// </summary>
    /// <param name="member">The member.</param>
    /// <param name="join">What it offered, and its <c>welcome</c>.</param>
    /// <returns>Whether this join created the room on this node, and the broadcasts replayed (-1 when it resumed and was not recovered).</returns>
    /// <exception cref="Exception">The room's subscription failed (the member was not added).</exception>
    public async ValueTask<(bool Created, int Replayed)> AddAsync(TMember member, HistoryJoin join)
    {
        IReadOnlyList<RoomBroadcast>? fetched = null;
        bool fetchedOnce = false;
        while (true)
        {
            IndexedRoom<TMember> room = GetOrCreate(member.RoomId);
            Task ready = room.Ready;
            if (!ready.IsCompletedSuccessfully)
            {
                await AwaitReadyAsync(room, ready).ConfigureAwait(false);
            }

            RoomHistory? history = room.History;
            if (history is not null && join.After is { } after && !fetchedOnce)
            {
                bool reaches;
                lock (room.Gate)
                {
                    reaches = history.Reaches(after, _policy!.Now());
                }

                if (!reaches)
                {
                    fetchedOnce = true;
                    fetched = await join.FetchAsync(after).ConfigureAwait(false);
                }
            }

            lock (room.Gate)
            {
                if (room.Removed)
                {
                    continue;
                }

                int replayed;
                if (history is null)
                {
                    member.Enqueue(join.Welcome(null, join.Offered ? false : null, grant: null));
                    replayed = join.After is null ? 0 : -1;
                }
                else
                {
                    replayed = history.Admit(member, join, fetched, _policy!.Now());
                }

                return (room.Join(member, ref _count), replayed);
            }
        }
    }

    /// <summary>Awaits a room's subscription; a failed one removes the room (the next join tries again) and is rethrown.</summary>
    private async Task AwaitReadyAsync(IndexedRoom<TMember> room, Task ready)
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

    /// <summary>Removes a member; the last one removes the room and unsubscribes it.</summary>
    /// <returns><see langword="true"/> when the room became empty and was removed.</returns>
    public bool Remove(TMember member)
    {
        if (!_rooms.TryGetValue(member.RoomId, out IndexedRoom<TMember>? room))
        {
            return false;
        }

        lock (room.Gate)
        {
            if (!room.RemoveMember(member))
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
            if (room.History is { } history)
            {
                history.ExpiresAt = _policy!.Now() + _policy.MaxAgeMilliseconds; // kept for a client that comes back
            }

            Interlocked.Decrement(ref _count);
            lock (_transitions)
            {
                _rooms.TryRemove(new KeyValuePair<string, IndexedRoom<TMember>>(room.Id, room));
                _subscriptions.Unsubscribe(room.Id);
            }

            return true;
        }
    }

    /// <summary>The members of a room (a snapshot).</summary>
    public IReadOnlyCollection<TMember> GetMembers(string roomId)
    {
        if (!_rooms.TryGetValue(roomId, out IndexedRoom<TMember>? room))
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
        if (!_rooms.TryGetValue(broadcast.RoomId, out IndexedRoom<TMember>? room))
        {
            // No member here: a history kept for members who left a moment ago still takes it (the in-memory backplane's rooms).
            return _histories is not null && _histories.TryGet(broadcast.RoomId, out RoomHistory? kept)
                ? DeliverWithHistory(kept, broadcast, except, maxFrameBytes, channelMask, out recipients, out problem)
                : 0;
        }

        if (room.History is { } history)
        {
            return DeliverWithHistory(history, broadcast, except, maxFrameBytes, channelMask, out recipients, out problem);
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

    /// <summary>
    /// <see cref="Deliver"/> in a room that keeps a history: under its lock the broadcast is numbered and kept, then queued to its
    /// members, with its position to those that take positions (minus what a replay gave them already).
    /// </summary>
    private int DeliverWithHistory(RoomHistory history, RoomBroadcast broadcast, TMember? except, long maxFrameBytes, int channelMask, out int recipients, out string? problem)
    {
        problem = null;
        recipients = 0;
        lock (history.Gate)
        {
            if (history.Dropped)
            {
                return 0;
            }

            RoomPosition? position = history.Append(broadcast, _policy!.Now()); // null: not in the room's order (a gap report), sent plain

            // The room that uses the history now (not a removed one: a join that followed its removal shares the lock).
            if (!_rooms.TryGetValue(broadcast.RoomId, out IndexedRoom<TMember>? room) || room.History != history)
            {
                return 0;
            }

            return HistoryFanOut.FanOut(history, room.Members, broadcast, position, except, maxFrameBytes, channelMask, out recipients, out problem);
        }
    }

    private IndexedRoom<TMember> GetOrCreate(string roomId)
    {
        if (_rooms.TryGetValue(roomId, out IndexedRoom<TMember>? room))
        {
            return room;
        }

        lock (_transitions)
        {
            if (_rooms.TryGetValue(roomId, out room))
            {
                return room;
            }

            room = new IndexedRoom<TMember>(roomId, _histories?.For(roomId));
            room.Ready = _subscriptions.Subscribe(roomId);
            _rooms[roomId] = room;
            return room;
        }
    }

    /// <summary>A room whose subscription failed has no members: remove it, so that the next join tries again.</summary>
    private void Discard(IndexedRoom<TMember> room)
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
                _rooms.TryRemove(new KeyValuePair<string, IndexedRoom<TMember>>(room.Id, room));
            }
        }
    }
}
