using System.Buffers.Text;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis;

/// <summary>What a <see cref="RoomFeed"/> asks of its owner: reads of the room's state in Redis, and delivery on this node.</summary>
internal interface IRoomFeedOwner
{
    /// <summary>
    /// How many of a room's last broadcasts its log holds at least (<see cref="RedisBackplaneOptions.HistorySize"/>, more in a room
    /// that keeps a history for recovery).
    /// </summary>
    int LogLength(string roomId);

    /// <summary>The room's epoch and the number of its last broadcast (<see langword="null"/> and 0: nothing published).</summary>
    /// <exception cref="RedisBackplaneException">Redis failed the read.</exception>
    Task<(byte[]? Epoch, long Seq)> ReadSequenceAsync(string roomId);

    /// <summary>The room's log entries numbered <paramref name="from"/> through <paramref name="through"/>.</summary>
    /// <exception cref="RedisBackplaneException">Redis failed the read.</exception>
    Task<StreamEntry[]> ReadLogAsync(string roomId, long from, long through);

    /// <summary>
    /// Delivers a broadcast frame (a <see cref="BackplaneCodec"/> frame) to the room's members on this node, with its room position
    /// in a feed that gives positions (<see langword="null"/> otherwise).
    /// </summary>
    void Deliver(string roomId, ReadOnlyMemory<byte> frame, bool repaired, RoomPosition? position);

    /// <summary>Tells the room's members on this node that they missed <paramref name="missed"/> broadcasts (<see langword="null"/>: an unknown number).</summary>
    void ReportGap(string roomId, long? missed);

    /// <summary>A check of the room could not read Redis: it is tried again at the next heartbeat.</summary>
    void CheckFailed(string roomId, Exception exception);

    /// <summary>Delivering on this node failed otherwise (a defect): logged, and the feed goes on with what comes next.</summary>
    void DeliveryFailed(string roomId, Exception exception);

    /// <summary>This node fell behind the room's channel: what arrives is dropped until it catches up (and then repaired).</summary>
    void FellBehind(string roomId, int pending);

    /// <summary>A live frame that is not <c>epoch|seq|frame</c>.</summary>
    void Undecodable(string roomId);
}

/// <summary>
/// One room this node is subscribed to: what its channel brings (<c>epoch|seq|frame</c>), delivered to the room's members here in
/// sequence order. A number past the next expected one means some were missed (the link broke, or this node fell behind): they are
/// read from the room's log and delivered first; what the log no longer holds is reported in its place as a <c>realtime.gap</c>.
/// </summary>
/// <remarks>
/// One consumer at a time drains what arrives, like a connection's inbound queue: no lock is held while it reads Redis, and no task
/// waits while the room is quiet. What waits is bounded (<see cref="MaxPendingFrames"/>, <see cref="MaxPendingBytes"/>): past it,
/// arrivals are dropped and the room is checked once the consumer catches up, so they come from the room's log like any other miss.
/// In a room that keeps a history for recovery (<paramref name="positioned"/>), each broadcast is delivered with its room position,
/// the epoch and number Redis gave it, repaired ones included.
/// </remarks>
internal sealed class RoomFeed(string roomId, ChannelMessageQueue queue, IRoomFeedOwner owner, bool positioned = false)
{
    /// <summary>At most this many frames wait for the consumer.</summary>
    public const int MaxPendingFrames = 4096;

    /// <summary>At most this many bytes of frames wait for the consumer (one larger frame still fits when none waits).</summary>
    public const long MaxPendingBytes = 8 * 1024 * 1024;

    private static readonly RedisValue EpochField = "e";
    private static readonly RedisValue FrameField = "f";

    private readonly Lock _gate = new();
    private readonly Queue<byte[]> _pending = new();
    private readonly RoomSequence _sequence = new();
    private long _pendingBytes;
    private bool _running;
    private bool _checkRequested;
    private bool _behind;
    private bool _stopped;

    public string RoomId { get; } = roomId;

    public ChannelMessageQueue Queue { get; } = queue;

    /// <summary>Whether broadcasts are delivered with their room positions (the room keeps a history).</summary>
    public bool Positioned { get; } = positioned;

    /// <summary>Frames waiting for the consumer.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Starts from the room's state read after the subscription was acknowledged (see <see cref="RoomSequence.Start"/>).</summary>
    public void Start(byte[]? epoch, long seq) => _sequence.Start(epoch, seq);

    /// <summary>A frame from the room's channel (one caller at a time: the channel's handler). Never waits.</summary>
    public void Post(byte[] live)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            if (_pending.Count > 0 && (_pending.Count >= MaxPendingFrames || _pendingBytes + live.Length > MaxPendingBytes))
            {
                _checkRequested = true; // the consumer repairs what is dropped here once it catches up
                if (!_behind)
                {
                    _behind = true;
                    owner.FellBehind(RoomId, _pending.Count);
                }

                return;
            }

            _pending.Enqueue(live);
            _pendingBytes += live.Length;
            if (!StartDrain())
            {
                return;
            }
        }

        _ = DrainAsync();
    }

    /// <summary>Reads the room's sequence again and repairs what was published meanwhile (after the link to Redis came back).</summary>
    public void RequestCheck()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _checkRequested = true;
            if (!StartDrain())
            {
                return;
            }
        }

        _ = DrainAsync();
    }

    /// <summary>The room was unsubscribed: nothing more is delivered from this feed (a step under way still ends).</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            _pending.Clear();
            _pendingBytes = 0;
        }
    }

    /// <summary>Under the gate: whether the caller is to start the consumer.</summary>
    private bool StartDrain()
    {
        if (_running)
        {
            return false;
        }

        _running = true;
        return true;
    }

    /// <summary>
    /// The consumer: runs on the thread that started it (the channel's own handler loop, for a live frame) until it has to wait for
    /// Redis, and ends when nothing is left.
    /// </summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            byte[]? live = null;
            lock (_gate)
            {
                if (_stopped)
                {
                    _running = false;
                    return;
                }

                if (_pending.TryDequeue(out live))
                {
                    _pendingBytes -= live.Length;
                }
                else if (_checkRequested)
                {
                    _checkRequested = false;
                    _behind = false;
                }
                else
                {
                    _running = false;
                    return;
                }
            }

            try
            {
                await (live is null ? CheckAsync() : OnLiveAsync(live)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisBackplaneException or OperationCanceledException)
            {
                owner.CheckFailed(RoomId, ex); // a read failed: what it was to repair is repaired at the next check
            }
            catch (Exception ex)
            {
                // Not Redis's doing. The consumer goes on: a frame not delivered here is repaired when the next one shows the gap.
                owner.DeliveryFailed(RoomId, ex);
            }
        }
    }

    private async Task OnLiveAsync(byte[] live)
    {
        if (!TrySplit(live, out int epochLength, out long seq, out int frameStart))
        {
            owner.Undecodable(RoomId);
            return;
        }

        switch (_sequence.OnLive(live.AsSpan(0, epochLength), seq))
        {
            case RoomSequence.Verdict.Duplicate:
                return;
            case RoomSequence.Verdict.Reset:
                owner.ReportGap(RoomId, null);
                await RepairAsync(seq - 1).ConfigureAwait(false);
                break;
            case RoomSequence.Verdict.Repair:
                await RepairAsync(seq - 1).ConfigureAwait(false);
                break;
        }

        owner.Deliver(RoomId, live.AsMemory(frameStart), repaired: false, Positioned ? _sequence.PositionOf(seq) : null);
        _sequence.DeliveredThrough(seq);
    }

    private async Task CheckAsync()
    {
        (byte[]? epoch, long seq) = await owner.ReadSequenceAsync(RoomId).ConfigureAwait(false);
        switch (_sequence.OnCheck(epoch, seq))
        {
            case RoomSequence.Verdict.Reset:
                owner.ReportGap(RoomId, null);
                await RepairAsync(seq).ConfigureAwait(false);
                break;
            case RoomSequence.Verdict.Repair:
                await RepairAsync(seq).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Delivers the room's broadcasts from <see cref="RoomSequence.Expected"/> through <paramref name="through"/> from its log.</summary>
    private async Task RepairAsync(long through)
    {
        long from = _sequence.Expected;
        if (through < from)
        {
            return;
        }

        // The log holds at least the room's last LogLength broadcasts: older ones are reported without asking.
        long oldest = Math.Max(from, through - Math.Max(owner.LogLength(RoomId), 0) + 1);
        if (oldest > from)
        {
            owner.ReportGap(RoomId, oldest - from);
        }

        StreamEntry[] entries = oldest <= through ? await owner.ReadLogAsync(RoomId, oldest, through).ConfigureAwait(false) : [];
        long next = oldest;
        foreach (StreamEntry entry in entries)
        {
            byte[]? frame = entry[FrameField];
            if (!TryParseId(entry.Id, out long seq) || seq < next || seq > through || frame is null
                || !((byte[]?)entry[EpochField]).AsSpan().SequenceEqual(_sequence.Epoch))
            {
                continue;
            }

            if (seq > next)
            {
                owner.ReportGap(RoomId, seq - next);
            }

            owner.Deliver(RoomId, frame, repaired: true, Positioned ? _sequence.PositionOf(seq) : null);
            next = seq + 1;
        }

        if (next <= through)
        {
            owner.ReportGap(RoomId, through - next + 1);
        }

        _sequence.DeliveredThrough(through);
    }

    /// <summary>Splits <c>epoch|seq|frame</c>.</summary>
    internal static bool TrySplit(ReadOnlySpan<byte> live, out int epochLength, out long seq, out int frameStart)
    {
        seq = 0;
        frameStart = 0;
        int first = live.IndexOf((byte)'|');
        epochLength = first;
        if (first <= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = live[(first + 1)..];
        int second = rest.IndexOf((byte)'|');
        if (second <= 0 || !Utf8Parser.TryParse(rest[..second], out seq, out int consumed) || consumed != second || seq <= 0)
        {
            return false;
        }

        frameStart = first + 1 + second + 1;
        return true;
    }

    private static bool TryParseId(RedisValue id, out long seq)
    {
        seq = 0;
        string? text = id;
        int dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        return dash > 0 && long.TryParse(text.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out seq);
    }
}
