using Realtime.Internal;

namespace Realtime.Server.Internal.Features;

/// <summary>
/// The channels of a room one connection is in (a bit each, from <see cref="ChannelRegistry"/>), and what a channel holds for it while
/// it joins: a channel broadcast that reaches a joining connection waits until its welcome is queued, then follows it.
/// </summary>
/// <remarks>Deliveries come under the room's lock, one at a time; the lock here orders them against a join's end.</remarks>
internal sealed class ChannelMembership
{
    private readonly Lock _gate = new();
    private int _joined;
    private int _joining;
    private List<(int Mask, OutboundFrame Frame)>? _held;

    /// <summary>Whether the connection is in (or joining) any of the channels of <paramref name="mask"/>.</summary>
    public bool Includes(int mask) => ((Volatile.Read(ref _joined) | Volatile.Read(ref _joining)) & mask) != 0;

    /// <summary>A channel broadcast for this connection: queued, held while it joins the channel, or dropped when it is not in it.</summary>
    public void Deliver(int mask, OutboundFrame frame, IRoomMember member)
    {
        lock (_gate)
        {
            if ((_joining & mask) != 0)
            {
                (_held ??= []).Add((mask, frame));
            }
            else if ((_joined & mask) != 0)
            {
                member.Enqueue(frame);
            }
        }
    }

    /// <summary>A join starts: from now on the channel's broadcasts are held for this connection.</summary>
    public void BeginJoin(int mask)
    {
        lock (_gate)
        {
            _joining |= mask;
        }
    }

    /// <summary>
    /// A join ends: its welcome (when it has one) is queued, then what was held, and the connection is in the channel; or, when the
    /// join failed, what was held is dropped and the connection is in the channel only if it was before.
    /// </summary>
    public void EndJoin(int mask, OutboundFrame? welcome, IRoomMember member, bool succeeded = true)
    {
        lock (_gate)
        {
            if (!succeeded)
            {
                _held?.RemoveAll(entry => entry.Mask == mask);
                if (_held is { Count: 0 })
                {
                    _held = null;
                }

                Volatile.Write(ref _joining, _joining & ~mask);
                return;
            }

            if (welcome is { } first)
            {
                member.Enqueue(first);
            }

            if (_held is { } held)
            {
                held.RemoveAll(entry =>
                {
                    if (entry.Mask != mask)
                    {
                        return false;
                    }

                    member.Enqueue(entry.Frame);
                    return true;
                });
                if (held.Count == 0)
                {
                    _held = null;
                }
            }

            Volatile.Write(ref _joined, _joined | mask);
            Volatile.Write(ref _joining, _joining & ~mask);
        }
    }

    /// <summary>Leaves a channel.</summary>
    /// <returns><see langword="false"/> when the connection was not in it.</returns>
    public bool Leave(int mask)
    {
        lock (_gate)
        {
            bool was = (_joined & mask) != 0;
            Volatile.Write(ref _joined, _joined & ~mask);
            return was;
        }
    }
}
