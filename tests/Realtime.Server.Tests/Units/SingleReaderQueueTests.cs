using Realtime.Server.Internal;

namespace Realtime.Server.Tests.Units;

/// <summary>The send loop's channel: bounded, ordered, one waiting reader, completion, and many writers at once.</summary>
public class SingleReaderQueueTests
{
    [Fact]
    public void Items_come_out_in_order_through_growth_and_wrap_around_and_a_full_queue_refuses()
    {
        var queue = new SingleReaderQueue<int>(capacity: 6);
        int next = 0;
        int expected = 0;
        for (int round = 0; round < 50; round++)
        {
            // Fill, take some, fill again: the ring wraps and grows from empty up to its capacity.
            while (queue.TryWrite(next))
            {
                next++;
            }

            Assert.Equal(6, queue.Count);
            for (int i = 0; i < round % 6 + 1; i++)
            {
                Assert.True(queue.TryRead(out int item));
                Assert.Equal(expected++, item);
            }
        }

        while (queue.TryRead(out int item))
        {
            Assert.Equal(expected++, item);
        }

        Assert.Equal(next, expected);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_waiting_reader_wakes_for_a_write_and_for_completion_and_completion_keeps_what_is_queued()
    {
        var queue = new SingleReaderQueue<string>(capacity: 4);
        ValueTask<bool> wait = queue.WaitToReadAsync();
        Assert.False(wait.IsCompleted);
        Assert.True(queue.TryWrite("a"));
        Assert.True(await wait.AsTask().DefaultTimeout());
        Assert.True(queue.TryRead(out string? a));
        Assert.Equal("a", a);

        Assert.True(queue.TryWrite("b"));
        queue.TryComplete();
        Assert.False(queue.TryWrite("c")); // completed: refused
        Assert.True(await queue.WaitToReadAsync()); // "b" is still there
        Assert.True(queue.TryRead(out string? b));
        Assert.Equal("b", b);
        Assert.False(await queue.WaitToReadAsync());

        var empty = new SingleReaderQueue<string>(capacity: 4);
        ValueTask<bool> pending = empty.WaitToReadAsync();
        empty.TryComplete();
        Assert.False(await pending.AsTask().DefaultTimeout());
    }

    [Fact]
    public async Task Four_writers_and_one_reader_lose_nothing_and_keep_each_writer_s_order()
    {
        const int Writers = 4;
        const int PerWriter = 20_000;
        var queue = new SingleReaderQueue<(int Writer, int Seq)>(capacity: 64);
        int[] last = Enumerable.Repeat(-1, Writers).ToArray();
        int received = 0;
        Task reader = Task.Run(async () =>
        {
            while (received < Writers * PerWriter && await queue.WaitToReadAsync())
            {
                while (queue.TryRead(out (int Writer, int Seq) item))
                {
                    Assert.Equal(last[item.Writer] + 1, item.Seq);
                    last[item.Writer] = item.Seq;
                    received++;
                }
            }
        });
        Task[] writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < PerWriter; i++)
            {
                while (!queue.TryWrite((w, i)))
                {
                    await Task.Yield(); // full: the reader is behind (a writer of the real queue would close the connection instead)
                }
            }
        })).ToArray();
        await Task.WhenAll(writers).DefaultTimeout("the writers");
        await reader.DefaultTimeout("the reader");
        Assert.Equal(Writers * PerWriter, received);
        Assert.All(last, l => Assert.Equal(PerWriter - 1, l));
    }
}
