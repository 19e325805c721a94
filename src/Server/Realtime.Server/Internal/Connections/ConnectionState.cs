namespace Realtime.Server.Internal.Connections;

/// <summary>
/// The one state of a server connection. Every transition is a compare-and-swap in <see cref="ConnectionStates"/>:
/// <code>
/// Handshaking ──accept──▶ Accepting ──joined──▶ Open
///      │                      │  └──join failed──▶ Refused
///      └──close──▶ Refused     └──close──▶ Closing ◀──close── Open
/// </code>
/// <see cref="Accepting"/> is the short step in which the connection is registered and joins its room (the backplane subscribes
/// it); its <c>welcome</c> is queued at the end of it. <see cref="Refused"/> ends a connection that was never accepted,
/// <see cref="Closing"/> one that was: only an accepted connection leaves its room and runs the disconnect hooks.
/// </summary>
internal enum ConnectionState
{
    Handshaking,
    Accepting,
    Open,
    Refused,
    Closing,
}

/// <summary>
/// The transitions of <see cref="ConnectionState"/>, on an <see cref="int"/> field. The low byte is the state; a close writes its
/// <see cref="DisconnectReason"/> into the next byte in the same compare-and-swap, so whoever sees a connection closing also sees why.
/// </summary>
internal static class ConnectionStates
{
    private const int StateMask = 0xFF;
    private const int ReasonShift = 8;

    public static ConnectionState Read(ref int state) => (ConnectionState)(Volatile.Read(ref state) & StateMask);

    /// <summary>Why the connection is closing; <see langword="null"/> until a close has begun.</summary>
    public static DisconnectReason? ReasonOf(ref int state)
    {
        int reason = Volatile.Read(ref state) >> ReasonShift;
        return reason == 0 ? null : (DisconnectReason)(reason - 1);
    }

    /// <summary>Connect middleware called its last <c>next</c>: Handshaking → Accepting.</summary>
    public static bool TryAccept(ref int state) => Move(ref state, ConnectionState.Handshaking, ConnectionState.Accepting);

    /// <summary>Joined, <c>welcome</c> queued: Accepting → Open (fails when a close came first; the connection still leaves).</summary>
    public static bool TryOpen(ref int state) => Move(ref state, ConnectionState.Accepting, ConnectionState.Open);

    /// <summary>The join failed: Accepting (or Closing from it) → Refused, since the connection never was in its room. The close's reason stays.</summary>
    public static void JoinFailed(ref int state)
    {
        while (true)
        {
            int current = Volatile.Read(ref state);
            if ((ConnectionState)(current & StateMask) is not (ConnectionState.Accepting or ConnectionState.Closing)
                || Interlocked.CompareExchange(ref state, (current & ~StateMask) | (int)ConnectionState.Refused, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Starts closing, once, for <paramref name="reason"/>: Handshaking → Refused, Accepting or Open → Closing.</summary>
    /// <returns><see langword="false"/> when the connection was closing already (its first reason stays).</returns>
    public static bool TryClose(ref int state, DisconnectReason reason)
    {
        while (true)
        {
            int current = Volatile.Read(ref state);
            ConnectionState from = (ConnectionState)(current & StateMask);
            if (IsClosing(from))
            {
                return false;
            }

            ConnectionState next = from == ConnectionState.Handshaking ? ConnectionState.Refused : ConnectionState.Closing;

            if (Interlocked.CompareExchange(ref state, (int)next | (((int)reason + 1) << ReasonShift), current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Whether the connection is closing (or closed).</summary>
    public static bool IsClosing(ConnectionState state) => state is ConnectionState.Refused or ConnectionState.Closing;

    /// <summary>Whether the connection was accepted (it is, or was, in its room).</summary>
    public static bool IsAccepted(ConnectionState state) => state is ConnectionState.Accepting or ConnectionState.Open or ConnectionState.Closing;

    /// <summary>A move between states that carry no reason.</summary>
    private static bool Move(ref int state, ConnectionState from, ConnectionState to)
        => Interlocked.CompareExchange(ref state, (int)to, (int)from) == (int)from;
}
