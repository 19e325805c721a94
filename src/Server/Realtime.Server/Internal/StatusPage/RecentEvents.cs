namespace Realtime.Server.Internal.StatusPage;

/// <summary>
/// The last <see cref="Capacity"/> events of one kind (a refusal, a disconnect) with their time and reason, and the count of each
/// reason since the status page was mapped. Reasons are the instruments' low-cardinality tag values; past <see cref="MaxReasons"/>
/// distinct ones, the rest count as <c>other</c>.
/// </summary>
internal sealed class RecentEvents
{
    public const int Capacity = 50;
    public const int MaxReasons = 32;

    private readonly Lock _gate = new(); // a measurement of a rare event and the page's reads
    private readonly (DateTimeOffset Time, string Reason)[] _ring = new (DateTimeOffset, string)[Capacity];
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private int _next;
    private int _count;

    public void Add(DateTimeOffset time, string reason, long count)
    {
        lock (_gate)
        {
            if (!_counts.ContainsKey(reason) && _counts.Count >= MaxReasons)
            {
                reason = "other";
            }

            _counts[reason] = _counts.GetValueOrDefault(reason) + count;
            _ring[_next] = (time, reason);
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>The events kept, newest first.</summary>
    public (DateTimeOffset Time, string Reason)[] Recent()
    {
        lock (_gate)
        {
            var recent = new (DateTimeOffset, string)[_count];
            for (int i = 0; i < _count; i++)
            {
                recent[i] = _ring[(_next - 1 - i + Capacity) % Capacity];
            }

            return recent;
        }
    }

    /// <summary>Each reason's count since the page was mapped, the most frequent first.</summary>
    public KeyValuePair<string, long>[] Counts()
    {
        lock (_gate)
        {
            return [.. _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)];
        }
    }
}
