using static Realtime.Server.StackExchangeRedis.RoomSequence;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>The receiving side's decisions about a room's sequence numbers, without Redis.</summary>
public sealed class RoomSequenceTests
{
    private static readonly byte[] E1 = "1.1"u8.ToArray();
    private static readonly byte[] E2 = "2.2"u8.ToArray();

    [Fact]
    public void What_was_published_between_the_subscription_and_the_read_of_the_sequence_is_dropped_as_already_published_not_a_gap()
    {
        // Subscribed, then read 10: numbers up to 10 that arrive on the channel were published before the read (the channel holds
        // them from the subscription on). They are not for this node's members, and they are no sign that the sequence went back.
        var sequence = new RoomSequence();
        sequence.Start(E1, 10);
        Assert.Equal(Verdict.Duplicate, sequence.OnLive(E1, 9));
        Assert.Equal(Verdict.Duplicate, sequence.OnLive(E1, 10));
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E1, 11));
        sequence.DeliveredThrough(11);

        // Once a number came live, one that goes back is a reset again.
        Assert.Equal(Verdict.Reset, sequence.OnLive(E1, 3));
    }

    [Fact]
    public void The_next_number_is_delivered_a_later_one_asks_for_a_repair_from_the_expected_one_and_a_repaired_one_is_a_duplicate()
    {
        var sequence = new RoomSequence();
        sequence.Start(E1, 10);
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E1, 11));
        sequence.DeliveredThrough(11);
        Assert.Equal(Verdict.Repair, sequence.OnLive(E1, 15));
        Assert.Equal(12, sequence.Expected);
        sequence.DeliveredThrough(15);
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E1, 16));
    }

    [Fact]
    public void After_a_check_repaired_ahead_the_live_copies_of_the_repaired_numbers_are_dropped()
    {
        var sequence = new RoomSequence();
        sequence.Start(E1, 0);
        Assert.Equal(Verdict.Repair, sequence.OnCheck(E1, 5));
        sequence.DeliveredThrough(5);
        Assert.Equal(Verdict.Duplicate, sequence.OnLive(E1, 4));
        Assert.Equal(Verdict.Duplicate, sequence.OnLive(E1, 5));
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E1, 6));
        sequence.DeliveredThrough(6);
        Assert.Equal(Verdict.Duplicate, sequence.OnCheck(E1, 6));
    }

    [Fact]
    public void A_new_epoch_is_a_reset_that_repairs_the_new_epoch_from_its_first_number()
    {
        var sequence = new RoomSequence();
        sequence.Start(E1, 7);
        Assert.Equal(Verdict.Reset, sequence.OnLive(E2, 3));
        Assert.Equal(1, sequence.Expected);
        Assert.True(sequence.Epoch.SequenceEqual(E2));
        sequence.DeliveredThrough(3);
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E2, 4));

        Assert.Equal(Verdict.Reset, sequence.OnCheck(E1, 2));
        Assert.Equal(1, sequence.Expected);
    }

    [Fact]
    public void A_number_that_goes_back_in_the_same_epoch_is_a_reset_never_a_silent_drop()
    {
        var sequence = new RoomSequence();
        sequence.Start(E1, 0);
        for (long seq = 1; seq <= 6; seq++)
        {
            Assert.Equal(Verdict.Deliver, sequence.OnLive(E1, seq));
            sequence.DeliveredThrough(seq);
        }

        Assert.Equal(Verdict.Reset, sequence.OnLive(E1, 2)); // Redis restored a snapshot taken at 1
        sequence.DeliveredThrough(2);
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E1, 3));

        var checkedFirst = new RoomSequence();
        checkedFirst.Start(E1, 6);
        Assert.Equal(Verdict.Reset, checkedFirst.OnCheck(E1, 1));
        Assert.Equal(Verdict.Deliver, checkedFirst.OnLive(E1, 2));
    }

    [Fact]
    public void A_room_without_state_adopts_the_first_epoch_it_sees_and_a_state_that_vanished_is_a_reset()
    {
        var sequence = new RoomSequence();
        sequence.Start(null, 0);
        Assert.Equal(Verdict.Duplicate, sequence.OnCheck(null, 0));
        Assert.Equal(Verdict.Repair, sequence.OnLive(E1, 2)); // 1 was published before the handler ran: repair it
        sequence.DeliveredThrough(2);
        Assert.Equal(Verdict.Reset, sequence.OnCheck(null, 0)); // Redis lost the room
        Assert.Equal(Verdict.Deliver, sequence.OnLive(E2, 1));
    }
}
