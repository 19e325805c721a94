using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// The rooms' histories on this node (<see cref="RoomIndex{TMember}"/>), also of rooms left less than the maximum age ago: a room that
/// comes back within it gets its history back, and the sweep drops the others.
/// </summary>
/// <param name="policy">Which rooms keep a history, and the clock.</param>
/// <param name="transitions">The index's lock for room creation and removal: <see cref="For"/> is called under it, and the sweep takes it.</param>
/// <param name="inUse">Under <paramref name="transitions"/>: whether a room in the index uses the history.</param>
internal sealed class RoomHistories(HistoryPolicy policy, Lock transitions, Func<string, RoomHistory, bool> inUse)
{
    private readonly ConcurrentDictionary<string, RoomHistory> _histories = new(StringComparer.Ordinal);
    private long _sweptAt;

    public int Count => _histories.Count;

    public bool TryGet(string roomId, [NotNullWhen(true)] out RoomHistory? history) => _histories.TryGetValue(roomId, out history);

    /// <summary>Under the index's transitions lock: the history of a room that keeps one (the one it had a moment ago, if not dropped), or <see langword="null"/>.</summary>
    public RoomHistory? For(string roomId)
    {
        if (!policy.Keeps(roomId))
        {
            return null;
        }

        if (_histories.TryGetValue(roomId, out RoomHistory? history) && !history.Dropped)
        {
            return history;
        }

        history = new RoomHistory(policy);
        _histories[roomId] = history;
        return history;
    }

    /// <summary>A backplane that numbers broadcasts says where a room's broadcasts on this node start (<see cref="RoomHistory.Starts"/>).</summary>
    public void Starts(string roomId, RoomPosition position)
    {
        if (_histories.TryGetValue(roomId, out RoomHistory? history))
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

    /// <summary>Drops the histories of rooms left more than the maximum age ago (at most once a second).</summary>
    public void Sweep()
    {
        long now = policy.Now();
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

                lock (transitions)
                {
                    // A room that uses it is in the index (its creation and removal hold this lock): then it stays.
                    if (!inUse(pair.Key, history))
                    {
                        history.Dropped = true;
                        _histories.TryRemove(pair);
                    }
                }
            }
        }
    }
}
