using Realtime.Internal;
using Realtime.Server.Internal.Protocols;

namespace Realtime.Server.Internal.Recovery;

/// <summary>The fan-out of a broadcast in a room that keeps a history: positioned frames for the members that take positions, encoded once.</summary>
internal static class HistoryFanOut
{
    /// <summary>
    /// Under the history's lock: queues a broadcast just kept (at <paramref name="position"/>, or <see langword="null"/> for one outside the
    /// room's order) to the room's members, with its position to those that take positions, minus what a replay gave them already.
    /// </summary>
    /// <returns>The members skipped because their protocol cannot send it (the reason in <paramref name="problem"/>).</returns>
    public static int FanOut<TMember>(RoomHistory history, List<TMember> members, RoomBroadcast broadcast, RoomPosition? position, TMember? except, long maxFrameBytes, int channelMask,
                               out int recipients, out string? problem)
        where TMember : class, IRoomMember
    {
        recipients = 0;
        problem = null;
        int skipped = 0;
        OutboundFrame? positioned = null; // encoded at the first member that takes positions, then shared
        bool maySkip = position is { } numbered && history.MaySkip(numbered); // no member's mark is read unless a replay may have covered this one
        foreach (TMember member in members)
        {
            if (ReferenceEquals(member, except) || (channelMask != 0 && !member.InChannel(channelMask)))
            {
                continue;
            }

            EncodedMessage encoded = broadcast.EncodedFor(member.Protocol, maxFrameBytes);
            if (encoded.Problem is not null)
            {
                problem = encoded.Problem;
                skipped++;
                continue;
            }

            OutboundFrame frame = encoded.Frame;
            if (position is { } at && member.Recovery is { } recovery)
            {
                if (maySkip && recovery.Skips(at))
                {
                    continue; // its replay gave it this one
                }

                frame = positioned ??= PositionedFrame(broadcast, member.Protocol, maxFrameBytes) ?? frame;
            }

            recipients++;
            if (channelMask == 0)
            {
                member.Enqueue(frame);
            }
            else
            {
                member.EnqueueInChannel(channelMask, frame);
            }
        }

        return skipped;
    }

    /// <summary>
    /// A broadcast's positioned frame for a member of <paramref name="protocol"/> (encoded once per broadcast), or its plain frame when
    /// the position would take it past <paramref name="maxFrameBytes"/>; <see langword="null"/> when that protocol cannot send it.
    /// </summary>
    public static OutboundFrame? PositionedFrame(RoomBroadcast broadcast, RealtimeProtocol protocol, long maxFrameBytes)
    {
        if (broadcast.PositionedFrame is { } frame)
        {
            return frame;
        }

        EncodedMessage plain = broadcast.EncodedFor(protocol, maxFrameBytes);
        if (plain.Problem is not null)
        {
            return null;
        }

        OutboundFrame? positioned = protocol.EncodePositioned(broadcast.Message, broadcast.Position!.Value.ToString()) ?? plain.Frame;
        if (positioned.Value.Bytes.Length > maxFrameBytes)
        {
            // A message at the size limit has no room left for its position: it goes out plain (the client's position simply does
            // not move with it), never larger than clients accept, which would close every member that recovers with 1009.
            positioned = plain.Frame;
        }

        broadcast.PositionedFrame = positioned;
        return positioned;
    }
}
