using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Realtime.Server.Internal.Recovery;

/// <summary>
/// Resume claims on one node, for a backplane that keeps the defaults of <see cref="RealtimeBackplane"/> (the in-memory one): for each
/// connection that held a resume token and ended, until when it may be resumed; for each claimed one, that it was, until its window
/// passed. Entries are dropped once expired (swept as new ones come, at most once a second).
/// </summary>
internal sealed class ResumeClaimStore
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Func<long> _now;
    private long _sweptAt;

    public ResumeClaimStore()
        : this(static () => Environment.TickCount64)
    {
    }

    /// <param name="now">The clock, in milliseconds (tests step it).</param>
    public ResumeClaimStore(Func<long> now)
    {
        _now = now;
        LocalKey = RandomNumberGenerator.GetBytes(32);
    }

    /// <summary>This process's secret for resume tokens.</summary>
    public ReadOnlyMemory<byte> LocalKey { get; }

    public int Count => _entries.Count;

    /// <summary>Claims a connection's resume once.</summary>
    /// <param name="connectionId">The former connection.</param>
    /// <param name="window">How long a claimed entry is kept (so that a second claim is refused while the token could still be presented).</param>
    /// <param name="live">Whether the connection is still open on this node.</param>
    public ResumeClaim Claim(string connectionId, TimeSpan window, bool live)
    {
        long now = _now();
        Sweep(now);
        var spent = new Entry(now + (long)window.TotalMilliseconds, Spent: true);
        while (true)
        {
            if (_entries.TryGetValue(connectionId, out Entry current))
            {
                if (current.Spent || current.ExpiresAt <= now)
                {
                    return ResumeClaim.Refused;
                }

                if (_entries.TryUpdate(connectionId, spent, current))
                {
                    return ResumeClaim.Claimed;
                }

                continue; // changed meanwhile: decide again
            }

            if (!live)
            {
                return ResumeClaim.Refused; // never known here, or its window passed and it was swept
            }

            if (_entries.TryAdd(connectionId, spent))
            {
                return ResumeClaim.ClaimedLive;
            }
        }
    }

    /// <summary>A connection with a token ended: it may be resumed until <paramref name="window"/> from now, unless it was claimed.</summary>
    public void Ended(string connectionId, TimeSpan window)
    {
        long now = _now();
        Sweep(now);
        _entries.TryAdd(connectionId, new Entry(now + (long)window.TotalMilliseconds, Spent: false)); // a claimed entry stays claimed
    }

    private void Sweep(long now)
    {
        long last = Volatile.Read(ref _sweptAt);
        if (now - last < 1000 || Interlocked.CompareExchange(ref _sweptAt, now, last) != last)
        {
            return;
        }

        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                _entries.TryRemove(pair);
            }
        }
    }

    private readonly record struct Entry(long ExpiresAt, bool Spent);
}
