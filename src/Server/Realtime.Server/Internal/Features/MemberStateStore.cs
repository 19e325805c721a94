using System.Collections.Concurrent;

namespace Realtime.Server.Internal.Features;

/// <summary>
/// Features' member states on one node, for the in-memory backplane (and any backplane that keeps the defaults of
/// <see cref="RealtimeBackplane"/>): room and feature to connection id to state. A room's map goes when its last entry does.
/// </summary>
internal sealed class MemberStateStore
{
    private readonly ConcurrentDictionary<(string Room, string Feature), Dictionary<string, ReadOnlyMemory<byte>>> _rooms = new();

    public MemberStateChange Set(string roomId, string feature, string connectionId, ReadOnlyMemory<byte> state, int maxEntries)
    {
        while (true)
        {
            Dictionary<string, ReadOnlyMemory<byte>> entries = _rooms.GetOrAdd((roomId, feature), static _ => new(StringComparer.Ordinal));
            lock (entries)
            {
                if (!_rooms.TryGetValue((roomId, feature), out Dictionary<string, ReadOnlyMemory<byte>>? current) || current != entries)
                {
                    continue; // emptied and dropped meanwhile
                }

                bool existed = entries.ContainsKey(connectionId);
                if (!existed && entries.Count >= maxEntries)
                {
                    return MemberStateChange.Refused;
                }

                entries[connectionId] = state.ToArray();
                return existed ? MemberStateChange.Replaced : MemberStateChange.Added;
            }
        }
    }

    public bool Remove(string roomId, string feature, string connectionId)
    {
        if (!_rooms.TryGetValue((roomId, feature), out Dictionary<string, ReadOnlyMemory<byte>>? entries))
        {
            return false;
        }

        lock (entries)
        {
            bool removed = entries.Remove(connectionId);
            if (entries.Count == 0)
            {
                _rooms.TryRemove(new KeyValuePair<(string, string), Dictionary<string, ReadOnlyMemory<byte>>>((roomId, feature), entries));
            }

            return removed;
        }
    }

    /// <summary>The room ended (its last member left): every feature's entries of it go, those a feature did not remove itself included.</summary>
    public void DropRoom(string roomId)
    {
        foreach (KeyValuePair<(string Room, string Feature), Dictionary<string, ReadOnlyMemory<byte>>> pair in _rooms)
        {
            if (pair.Key.Room == roomId)
            {
                lock (pair.Value)
                {
                    _rooms.TryRemove(pair);
                }
            }
        }
    }

    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Get(string roomId, string feature)
    {
        if (!_rooms.TryGetValue((roomId, feature), out Dictionary<string, ReadOnlyMemory<byte>>? entries))
        {
            return new Dictionary<string, ReadOnlyMemory<byte>>();
        }

        lock (entries)
        {
            return new Dictionary<string, ReadOnlyMemory<byte>>(entries, StringComparer.Ordinal);
        }
    }
}
