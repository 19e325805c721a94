namespace Realtime.Server.Internal.Connections;

/// <summary>What a heartbeat tick asks the connection to do.</summary>
internal enum HeartbeatAction
{
    None,
    SendPing,
    TimedOut,
}

/// <summary>
/// One connection's heartbeat: when the next ping is due, since when a ping is unanswered, and since when the receive loop stopped
/// reading on purpose. All times are <see cref="TimeProvider.GetTimestamp"/> values. The shared heartbeat timer calls
/// <see cref="OnTick"/>; the receive loop calls <see cref="OnPong"/>, <see cref="BeginPause"/> and <see cref="EndPause"/>; all of
/// them through the connection's <see cref="ConnectionInbound"/>. A mutable struct kept in a field of that object (no allocation of
/// its own); never copy it.
/// </summary>
internal struct HeartbeatState
{
    private long _nextPingAt;
    private long _pingOutstandingSince;
    private long _pausedSince;

    /// <summary>The first ping is due one interval after the connection is accepted.</summary>
    public void Start(long now, long interval) => Volatile.Write(ref _nextPingAt, now + interval);

    /// <summary>
    /// A tick: <see cref="HeartbeatAction.TimedOut"/> when the oldest unanswered ping is older than <paramref name="timeout"/>, else
    /// <see cref="HeartbeatAction.SendPing"/> when one is due. While the receive loop is not reading on purpose (the application is
    /// behind, or the sender is being slowed down) the deadline is suspended: the pong may be waiting unread in the socket, and the
    /// client is not to blame. Pings still go out, so that the client's own watchdog sees a live server.
    /// </summary>
    public HeartbeatAction OnTick(long now, long interval, long timeout)
    {
        // The pause is read first: ending one moves the deadline before it clears the pause.
        bool paused = Volatile.Read(ref _pausedSince) != 0;
        long outstanding = Volatile.Read(ref _pingOutstandingSince);
        if (!paused && outstanding != 0 && now - outstanding >= timeout)
        {
            return HeartbeatAction.TimedOut;
        }

        if (now < Volatile.Read(ref _nextPingAt))
        {
            return HeartbeatAction.None;
        }

        Volatile.Write(ref _nextPingAt, now + interval);
        Interlocked.CompareExchange(ref _pingOutstandingSince, now, 0);
        return HeartbeatAction.SendPing;
    }

    /// <summary>The client answered: no ping is outstanding.</summary>
    public void OnPong() => Volatile.Write(ref _pingOutstandingSince, 0);

    /// <summary>The receive loop stops reading on purpose: from now until <see cref="EndPause"/> no ping deadline runs out.</summary>
    public void BeginPause(long now) => Volatile.Write(ref _pausedSince, now);

    /// <summary>
    /// Like <see cref="BeginPause"/>, unless a pause is running already (it then covers this one too, and ends it).
    /// Only the receive loop pauses, so the check and the write cannot race.
    /// </summary>
    /// <returns><see langword="true"/> when this call began a pause, which its caller must end.</returns>
    public bool TryBeginPause(long now)
    {
        if (Volatile.Read(ref _pausedSince) != 0)
        {
            return false;
        }

        BeginPause(now);
        return true;
    }

    /// <summary>
    /// Reading again: the outstanding ping's deadline moves on by the part of the pause that came after the ping, since the client's
    /// pong could not be read meanwhile. Only the receive loop clears the outstanding ping, so the update cannot lose a pong; the
    /// tick only ever sets it from 0.
    /// </summary>
    public void EndPause(long now)
    {
        long pausedSince = Volatile.Read(ref _pausedSince);
        long outstanding = Volatile.Read(ref _pingOutstandingSince);
        if (outstanding != 0)
        {
            Interlocked.CompareExchange(ref _pingOutstandingSince, outstanding + (now - Math.Max(outstanding, pausedSince)), outstanding);
        }

        Volatile.Write(ref _pausedSince, 0);
    }
}
