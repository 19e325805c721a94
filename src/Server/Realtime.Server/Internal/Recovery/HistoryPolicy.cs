namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// Which rooms keep a history on this node and how much of it (<see cref="RecoveryOptions"/>), decided once per room, and the clock
/// histories age by.
/// </summary>
internal sealed class HistoryPolicy
{
    private readonly RecoveryOptions _options;
    private readonly Func<long> _now;

    /// <param name="options">The recovery options.</param>
    /// <param name="maxFrameBytes">The limit of a protocol v1 frame (<see cref="MessageSize.Limit"/>).</param>
    /// <param name="now">The clock, in milliseconds; <see langword="null"/> for <see cref="Environment.TickCount64"/> (tests step their own).</param>
    /// <param name="maxBytes">The most bytes of broadcasts a history keeps: <see cref="RealtimeOptions.MaxQueuedBytes"/>, since a replay must fit a connection's queue.</param>
    public HistoryPolicy(RecoveryOptions options, long maxFrameBytes, Func<long>? now = null, long maxBytes = long.MaxValue)
    {
        MaxBytes = maxBytes;
        Enabled = options.Enabled;
        _options = options;
        MaxMessages = options.MaxMessages;
        MaxAgeMilliseconds = (long)options.MaxAge.TotalMilliseconds;
        MaxFrameBytes = maxFrameBytes;
        _now = now ?? (static () => Environment.TickCount64);
    }

    /// <summary>Whether any room keeps a history.</summary>
    public bool Enabled { get; }

    public int MaxMessages { get; }

    public long MaxAgeMilliseconds { get; }

    /// <summary>The most bytes of broadcasts (their payloads and types) a history keeps: more could never be replayed whole.</summary>
    public long MaxBytes { get; }

    /// <summary>The limit of a protocol v1 frame.</summary>
    public long MaxFrameBytes { get; }

    public long Now() => _now();

    /// <summary>Whether a room keeps a history: recovery is on, and no patterns are given or one matches its id.</summary>
    public bool Keeps(string roomId) => _options.KeepsHistory(roomId);
}
