namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// The recovery side of one connection whose <c>hello</c> asked for it (<c>recover</c> or <c>resume</c>, docs/protocol.md §3.1): what
/// it offered, whether it was given a resume token, and which live broadcasts its replay already covered. A connection that did
/// not ask has none (nothing is allocated for it). Its skip mark is read and written under its room's lock only.
/// </summary>
/// <param name="offeredToken">The resume token the <c>hello</c> offered (<c>""</c> when unusable), or <see langword="null"/>.</param>
/// <param name="offeredPosition">The last position the <c>hello</c> offered, or <see langword="null"/>.</param>
internal sealed class RecoveryState(string? offeredToken, string? offeredPosition)
{
    private string? _skipEpoch;
    private long _skipThrough;

    /// <summary>The resume token the client offered, or <see langword="null"/> for a first connection.</summary>
    public string? OfferedToken { get; } = offeredToken;

    /// <summary>The last position the client received, as it sent it, or <see langword="null"/>.</summary>
    public string? OfferedPosition { get; } = offeredPosition;

    /// <summary>Whether this connection was given a resume token (its end is then recorded, so that it can be resumed).</summary>
    public bool TokenIssued { get; set; }

    /// <summary>Under the room's lock: live broadcasts at or before <paramref name="through"/> in its epoch were replayed already.</summary>
    public void SkipThrough(RoomPosition through)
    {
        _skipEpoch = through.Epoch;
        _skipThrough = through.Sequence;
    }

    /// <summary>Under the room's lock: whether a live broadcast at <paramref name="position"/> was replayed already; the first one past the mark (or in another epoch) clears it.</summary>
    public bool Skips(RoomPosition position)
    {
        if (_skipEpoch is null)
        {
            return false;
        }

        if (string.Equals(_skipEpoch, position.Epoch, StringComparison.Ordinal) && position.Sequence <= _skipThrough)
        {
            return true;
        }

        _skipEpoch = null;
        return false;
    }
}
