namespace Realtime.Server.StackExchangeRedis;

/// <summary>
/// What a node knows of one room's sequence: the room's epoch (the life of its sequence in Redis), the next sequence number it
/// expects, and the last one the live channel brought. Pure state, no I/O: a <see cref="RoomFeed"/> feeds it what arrives and does
/// what it answers, one message or check at a time.
/// </summary>
internal sealed class RoomSequence
{
    private byte[]? _epoch;
    private string? _epochText; // _epoch as a position's epoch, made on first use; "" when it cannot be one
    private long _expected = 1;
    private long _lastLive; // 0 until a number comes live after a start

    /// <summary>The next sequence number to deliver.</summary>
    public long Expected => _expected;

    /// <summary>
    /// Starts from the room's state in Redis read after the subscription was acknowledged: everything up to <paramref name="seq"/> was
    /// published before this node's members were there. No state (<paramref name="epoch"/> <see langword="null"/>): nothing was
    /// published yet. The channel may still bring numbers up to <paramref name="seq"/>, published between the subscription and the
    /// read: they are duplicates, not a sequence that went back, so none has come live yet.
    /// </summary>
    public void Start(byte[]? epoch, long seq)
    {
        SetEpoch(epoch);
        _expected = seq + 1;
        _lastLive = 0;
    }

    /// <summary>Decides about a message from the live channel.</summary>
    public Verdict OnLive(ReadOnlySpan<byte> epoch, long seq)
    {
        if (_epoch is null)
        {
            SetEpoch(epoch.ToArray()); // the room's first publish since this node listened
        }
        else if (!epoch.SequenceEqual(_epoch))
        {
            // A new epoch: Redis lost the room's state, and what was published before cannot be known. The new epoch's earlier
            // broadcasts are repaired from its log.
            SetEpoch(epoch.ToArray());
            _expected = 1;
            _lastLive = seq;
            return Verdict.Reset;
        }
        else if (seq <= _lastLive)
        {
            // The sequence went back: Redis restored an older snapshot, and reuses numbers that came live already. (A restore before
            // any number came live since the start is found by the check that follows the reconnection.)
            _expected = seq;
            _lastLive = seq;
            return Verdict.Reset;
        }

        _lastLive = seq;
        return seq == _expected ? Verdict.Deliver : seq < _expected ? Verdict.Duplicate : Verdict.Repair;
    }

    /// <summary>
    /// Decides after the link to Redis came back, from the room's state read then: <see cref="Verdict.Repair"/> through
    /// <paramref name="seq"/> when messages were published meanwhile, <see cref="Verdict.Reset"/> (then a repair through
    /// <paramref name="seq"/>) when the state is gone, new or went back, <see cref="Verdict.Duplicate"/> when nothing is missing.
    /// </summary>
    public Verdict OnCheck(byte[]? epoch, long seq)
    {
        if (epoch is null)
        {
            if (_epoch is null)
            {
                return Verdict.Duplicate; // still nothing published
            }

            Start(null, 0);
            return Verdict.Reset;
        }

        if (_epoch is null)
        {
            SetEpoch(epoch); // published for the first time while the link was down: repair from 1
        }
        else if (!epoch.AsSpan().SequenceEqual(_epoch))
        {
            Start(epoch, 0); // a new epoch: its broadcasts so far are repaired
            return Verdict.Reset;
        }
        else if (seq < _expected - 1)
        {
            Start(epoch, seq); // the sequence went back
            return Verdict.Reset;
        }

        return seq >= _expected ? Verdict.Repair : Verdict.Duplicate;
    }

    /// <summary>The epoch the repair must read the log of.</summary>
    public ReadOnlySpan<byte> Epoch => _epoch;

    /// <summary>The room position of broadcast <paramref name="seq"/> of the current epoch; <see langword="null"/> before an epoch is known.</summary>
    public RoomPosition? PositionOf(long seq)
    {
        if (_epoch is null)
        {
            return null;
        }

        _epochText ??= TryEpochText(_epoch, out string text) ? text : string.Empty;
        return _epochText.Length == 0 ? null : new RoomPosition(_epochText, seq);
    }

    /// <summary>
    /// The position of the room's state read from Redis: its epoch's text and <paramref name="seq"/>, or (<c>""</c>, 0) when nothing
    /// was published; <see langword="null"/> when the epoch cannot be a position's (not written by this backplane).
    /// </summary>
    public static RoomPosition? StartPosition(byte[]? epoch, long seq)
        => epoch is null ? new RoomPosition(string.Empty, 0) : TryEpochText(epoch, out string text) ? new RoomPosition(text, seq) : null;

    /// <summary>An epoch as Redis stores it (<c>seconds.microseconds</c>) as a position's epoch.</summary>
    internal static bool TryEpochText(ReadOnlySpan<byte> epoch, out string text)
    {
        text = string.Empty;
        if (epoch.IsEmpty || epoch.Length > RoomPosition.MaxEpochLength)
        {
            return false;
        }

        foreach (byte b in epoch)
        {
            if (b is < 0x21 or > 0x7e || b == (byte)':')
            {
                return false; // printable ASCII only: what the publish script writes
            }
        }

        text = System.Text.Encoding.ASCII.GetString(epoch);
        return true;
    }

    /// <summary>Messages up to <paramref name="seq"/> were delivered (or reported missing).</summary>
    public void DeliveredThrough(long seq) => _expected = Math.Max(_expected, seq + 1);

    private void SetEpoch(byte[]? epoch)
    {
        _epoch = epoch;
        _epochText = null;
    }

    /// <summary>What to do with a message or after a check.</summary>
    public enum Verdict
    {
        /// <summary>The next one: deliver it.</summary>
        Deliver,

        /// <summary>Delivered already (by a repair): drop it.</summary>
        Duplicate,

        /// <summary>Messages before it are missing: read them from the room's log (from <see cref="Expected"/>), then deliver it.</summary>
        Repair,

        /// <summary>
        /// The room's sequence started again: tell the members they may have missed messages, repair what the new sequence holds
        /// before this message (from <see cref="Expected"/>), then deliver it.
        /// </summary>
        Reset,
    }
}
