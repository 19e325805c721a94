namespace Realtime.Client.Internal;

/// <summary>
/// The ids of the connection a <see cref="Presence"/> is on: the current one, and a bounded queue of the former ones (each
/// reconnection is a new connection with a new id), so that the presence never files this connection's own stale state as
/// another's.
/// </summary>
/// <remarks>Not thread-safe: its state is guarded by the lock of the <see cref="PresenceStore"/> that holds it.</remarks>
internal sealed class PresenceIdentity
{
    /// <summary>How many earlier ids of this connection are remembered.</summary>
    public const int FormerIdsKept = 16;

    private readonly Queue<string> _formerIds = new(); // oldest first
    private bool _connectedBefore;

    /// <param name="id">The connection's id when the presence is created; <see langword="null"/> if it has not connected yet.</param>
    public PresenceIdentity(string? id)
    {
        Current = id;
        _connectedBefore = id is not null;
    }

    /// <summary>The id of the connection whose messages are being handled.</summary>
    public string? Current { get; private set; }

    /// <summary>The earlier ids of this connection, oldest first.</summary>
    public IEnumerable<string> FormerIds => _formerIds;

    /// <summary>Whether <paramref name="id"/> is this connection's, current or former.</summary>
    public bool IsOwn(string id) => id == Current || _formerIds.Contains(id, StringComparer.Ordinal);

    /// <summary>Moves to the id of a new connection; the current id, if any, becomes a former one.</summary>
    /// <param name="id">The new connection's id.</param>
    /// <param name="reconnected">Whether there was a connection before this one.</param>
    /// <returns><see langword="false"/>, changing nothing, when <paramref name="id"/> is already the current id (the connection the presence was created on).</returns>
    public bool TryMoveTo(string id, out bool reconnected)
    {
        reconnected = false;
        if (id == Current)
        {
            return false;
        }

        if (Current is not null)
        {
            _formerIds.Enqueue(Current);
            if (_formerIds.Count > FormerIdsKept)
            {
                _formerIds.Dequeue();
            }
        }

        Current = id;
        reconnected = _connectedBefore;
        _connectedBefore = true;
        return true;
    }
}
