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
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> _unsubscribing = new(StringComparer.Ordinal);
    private readonly Lock _transitions = new(); // room creation and removal only (rare); taken after a room's Gate, never before
    private readonly Func<string, ValueTask> _subscribe;
    private readonly Func<string, ValueTask> _unsubscribe;
    private readonly Action<string, Exception> _unsubscribeFailed;
    private readonly HistoryPolicy? _policy; // null when no room keeps a history
    private readonly ConcurrentDictionary<string, RoomHistory>? _histories; // rooms' histories, also of rooms left a moment ago
    private long _sweptAt;
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
        _subscribe = subscribe;
        _unsubscribe = unsubscribe;
        _unsubscribeFailed = unsubscribeFailed;
        if (histories is { Enabled: true })
        {
            _policy = histories;
            _histories = new ConcurrentDictionary<string, RoomHistory>(StringComparer.Ordinal);
        }
    }

    /// <summary>Which rooms keep a history, or <see langword="null"/> when none does.</summary>
    public HistoryPolicy? Histories => _policy;

    /// <summary>How many rooms have a history on this node (with members, or left less than the maximum age ago).</summary>
    public int HistoryCount => _histories?.Count ?? 0;

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
                return Join(room, member);
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
            Room room = GetOrCreate(member.RoomId);
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

                return (Join(room, member), replayed);
            }
        }
    }

    /// <summary>Awaits a room's subscription; a failed one removes the room (the next join tries again) and is rethrown.</summary>
    private async Task AwaitReadyAsync(Room room, Task ready)
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

    /// <summary>Under the room's lock, its first frame queued: adds the member.</summary>
    /// <returns>Whether this join created the room on this node.</returns>
    private bool Join(Room room, TMember member)
    {
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
            if (room.History is { } history)
            {
                history.ExpiresAt = _policy!.Now() + _policy.MaxAgeMilliseconds; // kept for a client that comes back
            }

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
            // No member here: a history kept for members who left a moment ago still takes it (the in-memory backplane's rooms).
            return _histories is not null && _histories.TryGetValue(broadcast.RoomId, out RoomHistory? kept)
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
        int skipped = 0;
        lock (history.Gate)
        {
            if (history.Dropped)
            {
                return 0;
            }

            RoomPosition? position = history.Append(broadcast, _policy!.Now()); // null: not in the room's order (a gap report), sent plain

            // The room that uses the history now (not a removed one: a join that followed its removal shares the lock).
            if (!_rooms.TryGetValue(broadcast.RoomId, out Room? room) || room.History != history)
            {
                return 0;
            }

            OutboundFrame? positioned = null; // encoded at the first member that takes positions, then shared
            bool maySkip = position is { } numbered && history.MaySkip(numbered); // no member's mark is read unless a replay may have covered this one
            foreach (TMember member in room.Members)
            {
                if (ReferenceEquals(member, except) || (channelMask != 0 && !member.InChannel(channelMask)))
                {
                    continue;
                }

                EncodedMessage encoded = broadcast.EncodedFor(member.Protocol, maxFrameBytes);
                if (encoded.Problem is not null)
                {
                    problem = encoded.Problem;
                    skipped++;
                    continue;
                }

                OutboundFrame frame = encoded.Frame;
                if (position is { } at && member.Recovery is { } recovery)
                {
                    if (maySkip && recovery.Skips(at))
                    {
                        continue; // its replay gave it this one
                    }

                    frame = positioned ??= RoomHistory.PositionedFrame(broadcast, member.Protocol, maxFrameBytes) ?? frame;
                }

                recipients++;
                if (channelMask == 0)
                {
                    member.Enqueue(frame);
                }
                else
                {
                    member.EnqueueInChannel(channelMask, frame);
                }
            }
        }

        return skipped;
    }

    /// <summary>A backplane that numbers broadcasts says where a room's broadcasts on this node start (<see cref="RoomHistory.Starts"/>).</summary>
    public void HistoryStarts(string roomId, RoomPosition position)
    {
        if (_histories is not null && _histories.TryGetValue(roomId, out RoomHistory? history))
        {
            lock (history.Gate)
            {
                if (!history.Dropped)
                {
                    history.Starts(position);
                }
            }
        }
    }

    /// <summary>Drops the histories of rooms left more than the maximum age ago (at most once a second; the heartbeat calls it).</summary>
    public void SweepHistories()
    {
        if (_histories is null)
        {
            return;
        }

        long now = _policy!.Now();
        long last = Volatile.Read(ref _sweptAt);
        if (now - last < 1000 || Interlocked.CompareExchange(ref _sweptAt, now, last) != last)
        {
            return;
        }

        foreach (KeyValuePair<string, RoomHistory> pair in _histories)
        {
            RoomHistory history = pair.Value;
            lock (history.Gate)
            {
                if (history.ExpiresAt > now)
                {
                    continue;
                }

                lock (_transitions)
                {
                    // A room that uses it is in the index (its creation and removal hold this lock): then it stays.
                    if (!(_rooms.TryGetValue(pair.Key, out Room? room) && room.History == history))
                    {
                        history.Dropped = true;
                        _histories.TryRemove(pair);
                    }
                }
            }
        }
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

            room = new Room(roomId, HistoryFor(roomId));
            room.Ready = _unsubscribing.TryGetValue(roomId, out Pending? previous) ? SubscribeAfterAsync(previous.Task!, roomId) : Subscribe(roomId);
            _rooms[roomId] = room;
            return room;
        }
    }

    /// <summary>Under <see cref="_transitions"/>: the history of a room that keeps one (the one it had a moment ago, if not dropped), or <see langword="null"/>.</summary>
    private RoomHistory? HistoryFor(string roomId)
    {
        if (_histories is null || !_policy!.Keeps(roomId))
        {
            return null;
        }

        if (_histories.TryGetValue(roomId, out RoomHistory? history) && !history.Dropped)
        {
            return history;
        }

        history = new RoomHistory(_policy);
        _histories[roomId] = history;
        return history;
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

    private sealed class Room(string id, RoomHistory? history)
    {
        public readonly Lock Gate = history?.Gate ?? new Lock(); // a room that keeps a history shares its lock
        public readonly List<TMember> Members = [];
        public readonly string Id = id;
        public readonly RoomHistory? History = history;
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
