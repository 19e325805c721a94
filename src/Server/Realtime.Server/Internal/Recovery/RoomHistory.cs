using Realtime.Internal;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// One room's history on this node: a ring of its last positioned broadcasts (at most <see cref="HistoryPolicy.MaxMessages"/>, none
/// older than <see cref="HistoryPolicy.MaxAgeMilliseconds"/>), contiguous in one epoch from just after <c>base</c> to the room's last
/// position. Every member is read and written under <see cref="Gate"/>, which is also the lock of the room it belongs to: a broadcast
/// is numbered, kept and fanned out in one step, and a joiner's replay is taken in the same order. It outlives the room's last leave
/// by the maximum age (<see cref="ExpiresAt"/>), so that the one member who dropped can come back.
/// </summary>
internal sealed class RoomHistory
{
    /// <summary>Bytes allowed for the <c>welcome</c> when checking that a replay fits the joiner's queue.</summary>
    private const int WelcomeAllowance = 1024;

    private readonly HistoryPolicy _policy;
    private Entry[] _entries = [];
    private int _head; // index of the oldest entry
    private int _count;
    private string _epoch;
    private long _base; // the sequence just before the oldest entry (the last one when empty)
    private long _bytes; // the entries' sizes (payload and type), bounded by the policy's MaxBytes
    private string? _skipEpoch; // with _skipThrough: the furthest any member's skip mark reaches, or null when none can matter
    private long _skipThrough;
    private bool _numberedByBackplane; // positions come with the broadcasts (Redis): one without is not part of the room's order

    public RoomHistory(HistoryPolicy policy)
    {
        _policy = policy;
        _epoch = NewEpoch();
        ExpiresAt = policy.Now() + policy.MaxAgeMilliseconds;
    }

    /// <summary>The lock of the history and of its room.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Under <see cref="Gate"/>: when it may be dropped if no room uses it (set at the room's last leave).</summary>
    public long ExpiresAt { get; set; }

    /// <summary>Under <see cref="Gate"/>: dropped by the sweep; a room that comes back gets a new one (a new epoch).</summary>
    public bool Dropped { get; set; }

    /// <summary>Under <see cref="Gate"/>: the broadcasts held.</summary>
    public int Count => _count;

    /// <summary>Under <see cref="Gate"/>: the position of the room's last broadcast (sequence 0 in its epoch before any).</summary>
    public RoomPosition Last => new(_epoch, _base + _count);

    /// <summary>Under <see cref="Gate"/>: the position just before the oldest broadcast held.</summary>
    public RoomPosition Base => new(_epoch, _base);

    /// <summary>
    /// Under <see cref="Gate"/>: numbers a broadcast (its own <see cref="RoomBroadcast.Position"/>, or the next in this node's numbering)
    /// and keeps it. A position that does not follow the last one (another epoch, or a gap) starts the ring again after it.
    /// </summary>
    /// <returns>
    /// Its position; <see langword="null"/> for a broadcast without one in a room whose backplane numbers its broadcasts (its
    /// <c>realtime.gap</c> report): that one is not in the room's order, so it is neither kept nor positioned, and what follows it
    /// starts the ring again unless it is the next number.
    /// </returns>
    public RoomPosition? Append(RoomBroadcast broadcast, long now)
    {
        RoomPosition position;
        if (broadcast.Position is null && _numberedByBackplane)
        {
            return null;
        }

        if (broadcast.Position is { } given)
        {
            _numberedByBackplane = true;
            position = given;
            if (!string.Equals(given.Epoch, _epoch, StringComparison.Ordinal) || given.Sequence != _base + _count + 1)
            {
                Restart(given.Epoch, given.Sequence - 1);
            }
        }
        else
        {
            if (_epoch.Length == 0)
            {
                Restart(NewEpoch(), 0); // "" is only the place before a backplane's first broadcast
            }

            position = new RoomPosition(_epoch, _base + _count + 1);
            broadcast.AssignPosition(position);
        }

        Trim(now, room: 1);
        if (_count == _entries.Length)
        {
            Grow();
        }

        long size = SizeOf(broadcast.Message);
        _entries[(_head + _count) % _entries.Length] = new Entry(broadcast, now, size);
        _count++;
        _bytes += size;
        while (_bytes > _policy.MaxBytes && _count > 1)
        {
            DropOldest(); // more than a queue holds could never be replayed whole
        }

        return position;
    }

    /// <summary>Under <see cref="Gate"/>: a backplane says where the room's broadcasts on this node start; a ring that does not end there starts again.</summary>
    public void Starts(RoomPosition position)
    {
        _numberedByBackplane = true;
        if (_count == 0 || !string.Equals(position.Epoch, _epoch, StringComparison.Ordinal) || position.Sequence != _base + _count)
        {
            Restart(position.Epoch, position.Sequence);
        }
    }

    /// <summary>Under <see cref="Gate"/>: whether this ring alone can replay what followed <paramref name="after"/>.</summary>
    public bool Reaches(RoomPosition after, long now)
    {
        Trim(now, room: 0);
        return string.Equals(after.Epoch, _epoch, StringComparison.Ordinal) && after.Sequence >= _base && after.Sequence <= _base + _count;
    }

    /// <summary>
    /// Under <see cref="Gate"/>: queues a joiner's <c>welcome</c> and, when it resumes and everything it missed can be given (from
    /// <paramref name="fetched"/> and this ring, contiguous, recent enough, not too many, and fitting its queue), the replay after it;
    /// then marks the live broadcasts the replay covered, so that they are not sent twice.
    /// </summary>
    /// <returns>The broadcasts replayed, or -1 when the joiner resumed and was not recovered; 0 for a fresh join.</returns>
    public int Admit<TMember>(TMember member, HistoryJoin join, IReadOnlyList<RoomBroadcast>? fetched, long now)
        where TMember : class, IRoomMember
    {
        Trim(now, room: 0);
        List<OutboundFrame>? replay = null;
        RoomPosition through = default;
        if (join.After is { } after && TryReplay(after, fetched, join, member.Protocol, out replay, out through, out long bytes, out long? lastSent)
            && member.HasRoomFor(replay.Count + 1, bytes + WelcomeAllowance))
        {
            // Its token starts where this one did; the broadcasts at the end of the replay that it was not sent (its own, a channel's)
            // are its own tail, so that a second resume from the same position does not send them either.
            ResumeGrant grant = string.Equals(through.Epoch, after.Epoch, StringComparison.Ordinal)
                ? new ResumeGrant(after, lastSent ?? after.Sequence, Math.Max(through.Sequence, lastSent ?? after.Sequence))
                : ResumeGrant.From(after);
            member.Enqueue(join.Welcome(after, recovered: true, grant));
            foreach (OutboundFrame frame in replay)
            {
                member.Enqueue(frame);
            }

            if (member.Recovery is { } recovery && through.Epoch is not null)
            {
                recovery.SkipThrough(through);
                if (_skipEpoch is null || !string.Equals(_skipEpoch, through.Epoch, StringComparison.Ordinal) || through.Sequence > _skipThrough)
                {
                    _skipEpoch = through.Epoch;
                    _skipThrough = through.Sequence;
                }
            }

            return replay.Count;
        }

        member.Enqueue(join.Welcome(Last, join.Offered ? false : null, ResumeGrant.From(Last)));
        return join.After is null ? 0 : -1;
    }

    /// <summary>
    /// Under <see cref="Gate"/>: whether some member's replay may have covered the live broadcast at <paramref name="position"/>
    /// (only then are the members' own marks read); once broadcasts pass every mark, none is read again.
    /// </summary>
    public bool MaySkip(RoomPosition position)
    {
        if (_skipEpoch is null)
        {
            return false;
        }

        if (string.Equals(_skipEpoch, position.Epoch, StringComparison.Ordinal) && position.Sequence <= _skipThrough)
        {
            return true;
        }

        _skipEpoch = null; // past every mark (a member's own clears when it is next read, or never matters again)
        return false;
    }

    private bool TryReplay(RoomPosition after, IReadOnlyList<RoomBroadcast>? fetched, HistoryJoin join, RealtimeProtocol protocol,
                           out List<OutboundFrame> replay, out RoomPosition through, out long bytes, out long? lastSent)
    {
        var frames = new List<OutboundFrame>();
        long size = 0;
        long? sent = null;
        string? former = join.FormerConnectionId;
        ResumeGrant? own = join.Former;
        replay = frames;
        through = default;
        bytes = 0;
        lastSent = null;
        string epoch = after.Epoch;
        long next = after.Sequence + 1;
        bool beforeFirst = after.Epoch.Length == 0 && after.Sequence == 0; // a room that had never broadcast when the client joined
        int count = 0;
        foreach (RoomBroadcast broadcast in fetched ?? [])
        {
            if (broadcast.Position is not { } position)
            {
                return false;
            }

            if (beforeFirst && count == 0 && position.Sequence == 1)
            {
                epoch = position.Epoch;
            }

            if (!string.Equals(position.Epoch, epoch, StringComparison.Ordinal) || position.Sequence != next)
            {
                return false;
            }

            Add(broadcast);
            next++;
        }

        if (beforeFirst && count == 0 && _base == 0)
        {
            epoch = _epoch;
        }

        long last = _base + _count;
        if (string.Equals(epoch, _epoch, StringComparison.Ordinal))
        {
            if (next <= _base || (count == 0 && next > last + 1))
            {
                return false; // older than the ring holds, or a position this room never reached
            }

            for (long sequence = next; sequence <= last; sequence++)
            {
                Add(_entries[(int)((_head + (sequence - _base - 1)) % _entries.Length)].Broadcast);
            }

            next = Math.Max(next, last + 1);
        }
        else if (count == 0)
        {
            return false; // another epoch: the room's sequence started again
        }

        through = epoch.Length == 0 ? default : new RoomPosition(epoch, next - 1);
        bytes = size;
        lastSent = sent;
        return count <= _policy.MaxMessages;

        void Add(RoomBroadcast broadcast)
        {
            count++;
            if (broadcast.Channel is not null || (former is not null && string.Equals(broadcast.ExceptConnectionId, former, StringComparison.Ordinal))
                || (own is { } grant && broadcast.Position is { } at && grant.IsOwn(at)))
            {
                return; // a channel's broadcast (the resumed connection is in none), or one the client sent itself (now or before its last resume)
            }

            if (HistoryFanOut.PositionedFrame(broadcast, protocol, _policy.MaxFrameBytes) is { } frame)
            {
                frames.Add(frame);
                size += frame.Bytes.Length;
                sent = broadcast.Position?.Sequence;
            }
        }
    }

    /// <summary>Drops the broadcasts older than the maximum age, and the oldest while more than the maximum count (less <paramref name="room"/>) are held.</summary>
    private void Trim(long now, int room)
    {
        long oldest = now - _policy.MaxAgeMilliseconds;
        while (_count > 0 && (_count + room > _policy.MaxMessages || _entries[_head].At < oldest))
        {
            DropOldest();
        }
    }

    private void DropOldest()
    {
        _bytes -= _entries[_head].Size;
        _entries[_head] = default;
        _head = (_head + 1) % _entries.Length;
        _count--;
        _base++;
    }

    /// <summary>What a kept broadcast costs in a replay, near enough: its payload and type, and an envelope.</summary>
    private static long SizeOf(in Message message)
        => (message.IsBinary ? message.Bytes.Length : message.DataUtf8.Length) + (message.Type?.Length ?? 0) + 64;

    private void Grow()
    {
        int capacity = (int)Math.Min(Math.Max(16L, _entries.Length * 2L), _policy.MaxMessages);
        var entries = new Entry[capacity];
        for (int i = 0; i < _count; i++)
        {
            entries[i] = _entries[(_head + i) % _entries.Length];
        }

        _entries = entries;
        _head = 0;
    }

    private void Restart(string epoch, long baseSequence)
    {
        Array.Clear(_entries);
        _head = 0;
        _count = 0;
        _bytes = 0;
        _epoch = epoch;
        _base = baseSequence;
    }

    /// <summary>An epoch of this node's own numbering: 8 random URL-safe characters.</summary>
    private static string NewEpoch() => ConnectionId.New()[..8];

    private readonly record struct Entry(RoomBroadcast Broadcast, long At, long Size);
}
