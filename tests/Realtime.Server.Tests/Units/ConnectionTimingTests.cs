using Realtime.Protocol;
using Realtime.Server;

namespace Realtime.Server.Tests.Units;

/// <summary>The heartbeat and handshake rules of one connection, on fake time over in-memory pipes.</summary>
public class ConnectionTimingTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500); // the heartbeat's own tick: min(4 s, 2 s) / 4

    private static void Heartbeat(RealtimeOptions o)
    {
        o.PingInterval = Interval;
        o.PingTimeout = Timeout;
    }

    [Fact]
    public async Task The_first_ping_comes_one_interval_after_welcome_and_an_unanswered_one_closes_with_4001()
    {
        await using var harness = new ServerHarness(Heartbeat);
        InMemoryClient client = await harness.ConnectWelcomedAsync();

        harness.Advance(Interval - Tick, Tick);
        Assert.True(client.Connection.Connected);
        harness.Advance(Tick, Tick);
        Assert.Equal("{\"t\":\"ping\"}", await client.ReceiveTextAsync());

        harness.Advance(Timeout - Tick, Tick);
        Assert.True(client.Connection.Connected); // not yet: the deadline is the ping plus the whole timeout
        harness.Advance(Tick, Tick);
        Assert.False(client.Connection.Connected);
        Assert.Equal(CloseCodes.PingTimeout, await client.ReceiveCloseAsync());
        await harness.Logs.WaitForAsync("PingTimeout");
    }

    [Fact]
    public async Task A_pong_clears_the_deadline_and_pings_keep_coming()
    {
        await using var harness = new ServerHarness(Heartbeat, s => s.On(ServerEvents.Message, ctx => ctx.Connection.Send(ctx.Message)));
        InMemoryClient client = await harness.ConnectWelcomedAsync();
        for (int round = 0; round < 3; round++)
        {
            harness.Advance(Interval, Tick);
            Assert.Equal("{\"t\":\"ping\"}", await client.ReceiveTextAsync());
            await client.SendTextAsync("{\"t\":\"pong\"}");
            await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"echo\",\"data\":" + round + "}");
            Assert.Contains("\"data\":" + round, await client.ReceiveTextAsync(), StringComparison.Ordinal); // the pong before it was read
        }

        harness.Advance(Timeout + Tick, Tick);
        Assert.True(client.Connection.Connected);
    }

    [Fact]
    public async Task A_connection_that_never_says_hello_is_closed_with_4008_at_the_handshake_timeout()
    {
        await using var harness = new ServerHarness(o => o.HandshakeTimeout = TimeSpan.FromSeconds(3));
        InMemoryClient client = harness.Connect();
        harness.Time.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromMilliseconds(1));
        Assert.False(client.Run.IsCompleted);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CloseCodes.HandshakeTimeout, await client.ReceiveCloseAsync());
        await harness.Logs.WaitForAsync("HandshakeTimeout");
    }

    [Fact]
    public async Task A_slow_application_does_not_blame_the_client_its_ping_deadline_waits_while_the_server_is_not_reading()
    {
        // The message hook hangs while the client keeps sending: the inbound queue fills and the server stops reading the
        // socket, the client's pongs included. The connection must not end with 4001; once the hook returns, every message
        // is processed and the heartbeat works as before.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processed = new WatchedList<int>();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = new ServerHarness(Heartbeat, s => s.On(ServerEvents.Message, async ctx =>
        {
            entered.TrySetResult();
            await gate.Task;
            processed.Add(ctx.Data.GetInt32());
        }));
        try
        {
            await SlowApplicationRoundsAsync(harness, entered.Task, () => gate.TrySetResult(), processed);
        }
        finally
        {
            gate.TrySetResult(); // a failed assertion must not leave the hook hanging
        }
    }

    [Fact]
    public async Task A_slow_synchronous_hook_does_not_blame_the_client_its_ping_deadline_waits_while_the_hook_holds_the_receive_loop()
    {
        // The hook blocks its thread (no await): it runs on the receive loop, so the client's pong waits unread behind it. The
        // deadline passes twice over meanwhile; the connection must not end with 4001, and once the hook returns the pong counts.
        using var gate = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processed = new WatchedList<int>();
        await using var harness = new ServerHarness(Heartbeat, s => s.On(ServerEvents.Message, ctx =>
        {
            if (ctx.Type == "block")
            {
                entered.TrySetResult();
                gate.Wait(TimeSpan.FromSeconds(30));
            }

            processed.Add(ctx.Data.GetInt32());
        }));
        try
        {
            InMemoryClient client = await harness.ConnectWelcomedAsync();

            // A first message, processed once the connect hooks ran: from then on, with nothing queued, the next one is processed at
            // once on the receive loop (not by a drain of messages that came before the connection was open).
            await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"m\",\"data\":0}");
            await processed.WaitForAsync(p => p.Count == 1, "the first message processed");
            await client.Connection.Inbound.WhenIdleAsync().DefaultTimeout("the drain of early messages to end");

            harness.Advance(Interval, Tick);
            Assert.Equal("{\"t\":\"ping\"}", await client.ReceiveTextAsync());
            await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"block\",\"data\":1}");
            await entered.Task.DefaultTimeout("the hook to hold the receive loop");
            await client.SendTextAsync("{\"t\":\"pong\"}");

            harness.Advance(Timeout + Tick, Tick);
            Assert.True(client.Connection.Connected, "closed while a synchronous hook held the receive loop: "
                + string.Join(" | ", harness.Logs.Entries.Where(e => e.Category.StartsWith("Realtime", StringComparison.Ordinal))));

            // Once the hook returns, the pong behind it is read: the next message is processed after it, and the deadline is met.
            gate.Set();
            await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"m\",\"data\":2}");
            await processed.WaitForAsync(p => p.Count == 3, "every message processed");
            harness.Advance(Tick, Tick);
            Assert.True(client.Connection.Connected);

            // And the deadline is back: the next ping (one interval after the first), unanswered, closes with 4001.
            harness.Advance(Interval - (Timeout + Tick + Tick), Tick);
            Assert.Equal("{\"t\":\"ping\"}", await client.ReceiveTextAsync());
            harness.Advance(Timeout + Tick, Tick);
            Assert.Equal(CloseCodes.PingTimeout, await client.ReceiveCloseAsync());
        }
        finally
        {
            gate.Set(); // a failed assertion must not leave the hook blocked
        }
    }

    private static async Task SlowApplicationRoundsAsync(ServerHarness harness, Task hookEntered, Action release, WatchedList<int> processed)
    {
        using var pauses = ReceivePauses.Collect(harness.Services);
        InMemoryClient client = await harness.ConnectWelcomedAsync();
        const int Count = 200; // more than the inbound queue holds (128)
        // The hook holds the first message before the rest are sent, so the queue only fills: exactly one pause, until the gate opens.
        await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"m\",\"data\":0}");
        await hookEntered.DefaultTimeout("the hook to hold the first message");
        Task sending = Task.Run(async () =>
        {
            for (int i = 1; i < Count; i++)
            {
                await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"m\",\"data\":" + i + "}");
            }
        });
        await pauses.WaitForMeasurementsAsync(1).DefaultTimeout("the receive loop to stop reading");
        Assert.Equal("application", pauses.LastMeasurement!.Tags["realtime.pause.cause"]);
        await sending.DefaultTimeout("the client's sends"); // they fit the pipe; one writer at a time from here on

        // Pings go out and are answered, but the pongs wait unread behind the messages: three whole deadlines pass.
        for (int round = 0; round < 3; round++)
        {
            harness.Advance(Interval, Tick);
            Assert.Equal("{\"t\":\"ping\"}", await client.ReceiveTextAsync());
            await client.SendTextAsync("{\"t\":\"pong\"}");
            harness.Advance(Timeout + Tick, Tick);
            Assert.True(client.Connection.Connected, $"closed while the application held it up (round {round}): " + string.Join(" | ", harness.Logs.Entries.Where(e => e.Category.StartsWith("Realtime", StringComparison.Ordinal))));
        }

        // One more message after the pongs: once it is processed, the pongs before it have been read.
        await client.SendTextAsync("{\"t\":\"msg\",\"type\":\"m\",\"data\":" + Count + "}");
        release();
        await processed.WaitForAsync(p => p.Count == Count + 1, $"{Count + 1} processed messages");
        Assert.Equal(Enumerable.Range(0, Count + 1), processed.Items);

        // Reading again, the deadline is back: an unanswered ping now closes with 4001.
        harness.Advance(Interval, Tick);
        Assert.Equal("{\"t\":\"ping\"}", await client.ReceiveTextAsync());
        harness.Advance(Timeout + Tick, Tick);
        Assert.Equal(CloseCodes.PingTimeout, await client.ReceiveCloseAsync());
    }
}
