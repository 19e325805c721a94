using System.Text;
using StackExchange.Redis;

namespace Realtime.Server.StackExchangeRedis.Tests;

/// <summary>One room's feed on one node, without Redis: what waits while a repair reads Redis is bounded, and what is dropped is repaired.</summary>
public sealed class RoomFeedTests
{
    private static readonly byte[] Epoch = "7.7"u8.ToArray();

    [Fact]
    public async Task While_a_repair_waits_for_redis_what_arrives_is_bounded_and_what_was_dropped_comes_from_the_log_in_order()
    {
        var owner = new Owner();
        var feed = new RoomFeed("room1", null!, owner);
        feed.Start(Epoch, 0);
        const int Last = RoomFeed.MaxPendingFrames + 500;
        for (long seq = 1; seq <= Last; seq++)
        {
            owner.Log[seq] = Frame(seq);
        }

        // Number 1 is lost on the link: number 2 asks for a repair, which waits for Redis while the rest arrives.
        owner.LogReads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        feed.Post(Live(2));
        for (long seq = 3; seq <= Last; seq++)
        {
            feed.Post(Live(seq));
        }

        Assert.Empty(owner.Delivered);
        Assert.Equal(1, owner.FellBehindCount); // once, however many were dropped
        Assert.Equal(RoomFeed.MaxPendingFrames, feed.PendingCount); // the rest was dropped, not buffered

        owner.LogReads.SetResult(); // Redis answers: 1 from the log, 2 and what waited live, then the dropped ones from the log
        await owner.WaitForAsync(Last);
        Assert.Equal(Enumerable.Range(1, Last).Select(i => (long)i), owner.Delivered);
        Assert.Empty(owner.Gaps);
    }

    [Fact]
    public async Task A_check_after_the_link_came_back_repairs_what_was_published_meanwhile_even_in_a_quiet_room()
    {
        var owner = new Owner();
        var feed = new RoomFeed("room1", null!, owner);
        feed.Start(Epoch, 0);
        feed.Post(Live(1));
        owner.Log[1] = Frame(1);
        owner.Log[2] = Frame(2);
        owner.Log[3] = Frame(3);
        owner.Sequence = 3;

        feed.RequestCheck();
        await owner.WaitForAsync(3);
        Assert.Equal([1L, 2L, 3L], owner.Delivered);
    }

    [Fact]
    public async Task A_delivery_that_throws_is_logged_and_the_feed_goes_on_repairing_it_with_the_next_frame()
    {
        var owner = new Owner { ThrowOn = 1 };
        var feed = new RoomFeed("room1", null!, owner);
        feed.Start(Epoch, 0);
        owner.Log[1] = Frame(1);
        feed.Post(Live(1)); // throws below the feed
        feed.Post(Live(2)); // shows the gap: 1 comes from the log, then 2
        await owner.WaitForAsync(2);
        Assert.Equal([1L, 2L], owner.Delivered);
        Assert.IsType<InvalidOperationException>(Assert.Single(owner.Failures));
        Assert.Equal(0, feed.PendingCount);
    }

    [Fact]
    public void A_stopped_feed_delivers_nothing_more()
    {
        var owner = new Owner();
        var feed = new RoomFeed("room1", null!, owner);
        feed.Start(Epoch, 0);
        feed.Stop();
        feed.Post(Live(1));
        feed.RequestCheck();
        Assert.Empty(owner.Delivered);
        Assert.Equal(0, feed.PendingCount);
    }

    [Fact]
    public async Task A_feed_of_a_room_with_history_delivers_each_broadcast_with_its_epoch_and_number_repaired_ones_included()
    {
        var owner = new Owner();
        var feed = new RoomFeed("room1", null!, owner, positioned: true);
        feed.Start(Epoch, 2);
        owner.Log[3] = Frame(3);
        owner.Log[4] = Frame(4);
        feed.Post(Live(3));
        feed.Post(Live(6)); // 4 from the log, 5 reported missing (the log lost it), then 6
        await owner.WaitForAsync(3);
        Assert.Equal([3L, 4L, 6L], owner.Delivered);
        Assert.Equal([new RoomPosition("7.7", 3), new RoomPosition("7.7", 4), new RoomPosition("7.7", 6)], owner.Positions);
        Assert.Equal([false, true, false], owner.Repairs);
        Assert.Equal([1L], owner.Gaps);

        // A new epoch (Redis lost the room's state): its broadcasts are positioned in it.
        feed.Post([.. "8.8|2|"u8, .. Frame(2)]); // its number 1 is not in this test's log: reported missing
        await owner.WaitForAsync(4);
        Assert.Equal(new RoomPosition("8.8", 2), owner.Positions[^1]);
        Assert.Equal([1L, null, 1L], owner.Gaps);
    }

    [Fact]
    public async Task A_feed_of_a_room_without_history_delivers_no_positions()
    {
        var owner = new Owner();
        var feed = new RoomFeed("room1", null!, owner);
        feed.Start(Epoch, 0);
        feed.Post(Live(1));
        await owner.WaitForAsync(1);
        Assert.Equal([null], owner.Positions);
    }

    private static byte[] Frame(long seq) => Encoding.ASCII.GetBytes(seq.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static byte[] Live(long seq) => [.. Epoch, (byte)'|', .. Frame(seq), (byte)'|', .. Frame(seq)];

    private sealed class Owner : IRoomFeedOwner
    {
        private readonly Realtime.TestSupport.WatchedList<long> _delivered = new();

        public Dictionary<long, byte[]> Log { get; } = [];

        public long Sequence { get; set; } = RoomFeed.MaxPendingFrames + 500;

        public TaskCompletionSource? LogReads { get; set; }

        public IReadOnlyList<long> Delivered => _delivered.Items;

        public List<long?> Gaps { get; } = [];

        public List<Exception> Failures { get; } = [];

        /// <summary>A delivery that throws (a defect below the feed), once.</summary>
        public long ThrowOn { get; set; }

        public int FellBehindCount { get; private set; }

        public int LogLength(string roomId) => int.MaxValue / 2;

        /// <summary>The position each delivery carried, in order.</summary>
        public List<RoomPosition?> Positions { get; } = [];

        /// <summary>Which deliveries were repairs, in order.</summary>
        public List<bool> Repairs { get; } = [];

        public Task<(byte[]? Epoch, long Seq)> ReadSequenceAsync(string roomId) => Task.FromResult<(byte[]?, long)>((Epoch, Sequence));

        public async Task<StreamEntry[]> ReadLogAsync(string roomId, long from, long through)
        {
            if (LogReads is { } reads)
            {
                await reads.Task;
            }

            var entries = new List<StreamEntry>();
            for (long seq = from; seq <= through; seq++)
            {
                if (Log.TryGetValue(seq, out byte[]? frame))
                {
                    entries.Add(new StreamEntry($"{seq}-0", [new NameValueEntry("e", Epoch), new NameValueEntry("f", frame)]));
                }
            }

            return [.. entries];
        }

        public void Deliver(string roomId, ReadOnlyMemory<byte> frame, bool repaired, RoomPosition? position)
        {
            long seq = long.Parse(Encoding.ASCII.GetString(frame.Span), System.Globalization.CultureInfo.InvariantCulture);
            if (seq == ThrowOn)
            {
                ThrowOn = 0;
                throw new InvalidOperationException("A delivery that fails.");
            }

            lock (Positions)
            {
                Positions.Add(position);
                Repairs.Add(repaired);
            }

            _delivered.Add(seq);
        }

        public void ReportGap(string roomId, long? missed) => Gaps.Add(missed);

        public void CheckFailed(string roomId, Exception exception) => throw new InvalidOperationException("No read fails here.", exception);

        public void DeliveryFailed(string roomId, Exception exception) => Failures.Add(exception);

        public void FellBehind(string roomId, int pending) => FellBehindCount++;

        public void Undecodable(string roomId) => throw new InvalidOperationException("Every frame here is well-formed.");

        public Task WaitForAsync(int count) => _delivered.WaitForAsync(d => d.Count >= count, $"{count} deliveries");
    }
}
