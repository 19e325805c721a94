extern alias server;

using Realtime.Server.Internal.Connections;
using OutboundFrame = server::Realtime.Internal.OutboundFrame;

namespace Realtime.Server.Tests.Units;

/// <summary>A connection's parts on their own, without a socket: the state machine, both queues, the heartbeat.</summary>
public class ConnectionPartsTests
{
    [Fact]
    public void The_state_machine_accepts_once_opens_after_joining_and_closes_once()
    {
        int state = 0;
        Assert.True(ConnectionStates.TryAccept(ref state));
        Assert.False(ConnectionStates.TryAccept(ref state));
        Assert.True(ConnectionStates.IsAccepted(ConnectionStates.Read(ref state)));
        Assert.True(ConnectionStates.TryOpen(ref state));
        Assert.Equal(ConnectionState.Open, ConnectionStates.Read(ref state));
        Assert.True(ConnectionStates.TryClose(ref state, DisconnectReason.ServerDisconnect));
        Assert.False(ConnectionStates.TryClose(ref state, DisconnectReason.ServerDisconnect));
        Assert.Equal(ConnectionState.Closing, ConnectionStates.Read(ref state));
        Assert.True(ConnectionStates.IsAccepted(ConnectionState.Closing));

        // Closed during the handshake: refused, and it can no longer be accepted.
        int refused = 0;
        Assert.True(ConnectionStates.TryClose(ref refused, DisconnectReason.ServerDisconnect));
        Assert.Equal(ConnectionState.Refused, ConnectionStates.Read(ref refused));
        Assert.False(ConnectionStates.TryAccept(ref refused));
        Assert.False(ConnectionStates.IsAccepted(ConnectionState.Refused));

        // Closed while joining: the join can no longer open it; a failed join means it never was in its room.
        int joining = 0;
        ConnectionStates.TryAccept(ref joining);
        Assert.True(ConnectionStates.TryClose(ref joining, DisconnectReason.TransportError));
        Assert.False(ConnectionStates.TryOpen(ref joining));
        ConnectionStates.JoinFailed(ref joining);
        Assert.Equal(ConnectionState.Refused, ConnectionStates.Read(ref joining));
    }

    [Fact]
    public void Closing_takes_its_reason_in_the_same_step_so_whoever_sees_the_connection_closing_sees_why()
    {
        int state = 0;
        Assert.Null(ConnectionStates.ReasonOf(ref state));
        ConnectionStates.TryAccept(ref state);
        ConnectionStates.TryOpen(ref state);
        Assert.Null(ConnectionStates.ReasonOf(ref state));
        Assert.True(ConnectionStates.TryClose(ref state, DisconnectReason.PingTimeout));
        Assert.Equal(ConnectionState.Closing, ConnectionStates.Read(ref state));
        Assert.Equal(DisconnectReason.PingTimeout, ConnectionStates.ReasonOf(ref state));

        // The first close wins, its reason with it; a failed join keeps the reason of the close before it.
        Assert.False(ConnectionStates.TryClose(ref state, DisconnectReason.ClientDisconnect));
        Assert.Equal(DisconnectReason.PingTimeout, ConnectionStates.ReasonOf(ref state));
        int joining = 0;
        ConnectionStates.TryAccept(ref joining);
        ConnectionStates.TryClose(ref joining, DisconnectReason.TransportError);
        ConnectionStates.JoinFailed(ref joining);
        Assert.Equal(ConnectionState.Refused, ConnectionStates.Read(ref joining));
        Assert.Equal(DisconnectReason.TransportError, ConnectionStates.ReasonOf(ref joining));

        // The client's own close (reason 0, the enum's default) is told apart from no close at all.
        int byClient = 0;
        ConnectionStates.TryAccept(ref byClient);
        ConnectionStates.TryClose(ref byClient, DisconnectReason.ClientDisconnect);
        Assert.Equal(DisconnectReason.ClientDisconnect, ConnectionStates.ReasonOf(ref byClient));
    }

    [Fact]
    public void Only_the_first_completion_of_the_outbound_queue_counts()
    {
        var queue = new OutboundQueue(maxFrames: 3, maxBytes: 100);
        Assert.True(queue.TryEnqueue(Frame(1)));
        queue.Complete(4001, "Ping timeout", discard: false);
        queue.Complete(1011, "Internal server error", discard: true);
        Assert.True(queue.TryTake(out _)); // still drained: the second call did not turn the first into a discard
        Assert.Equal(4001, queue.CloseCode);
    }

    [Fact]
    public async Task The_outbound_queue_is_bounded_by_frames_and_bytes_and_a_discarding_close_drops_what_waits()
    {
        var queue = new OutboundQueue(maxFrames: 3, maxBytes: 10);
        Assert.True(queue.TryEnqueue(Frame(8)));
        Assert.False(queue.TryEnqueue(Frame(4))); // 12 bytes > 10
        Assert.True(queue.TryEnqueue(Frame(2)));
        Assert.Equal(10, queue.QueuedBytes);
        Assert.True(queue.TryTake(out OutboundFrame first));
        Assert.Equal(10, queue.QueuedBytes); // counted until sent
        queue.Sent(first.Bytes.Length);
        Assert.Equal(2, queue.QueuedBytes);

        var big = new OutboundQueue(maxFrames: 3, maxBytes: 10);
        Assert.True(big.TryEnqueue(Frame(50))); // one frame larger than the bound fits an empty queue
        Assert.False(big.TryEnqueue(Frame(1))); // and nothing fits behind it

        var counted = new OutboundQueue(maxFrames: 3, maxBytes: 1000);
        Assert.True(counted.TryEnqueue(Frame(1)) && counted.TryEnqueue(Frame(1)) && counted.TryEnqueue(Frame(1)));
        Assert.False(counted.TryEnqueue(Frame(1))); // 3 frames

        queue.Complete(4000, "bye", discard: true);
        Assert.False(queue.TryEnqueue(Frame(1)));
        Assert.False(queue.TryTake(out _)); // discarded
        Assert.True(await queue.WaitToReadAsync()); // one frame still there, but the send loop stops on the discard flag

        var draining = new OutboundQueue(maxFrames: 3, maxBytes: 10);
        draining.TryEnqueue(Frame(1));
        draining.Complete(4000, "bye", discard: false);
        Assert.True(draining.TryTake(out _));
        Assert.False(await draining.WaitToReadAsync());
    }

    [Fact]
    public async Task The_inbound_queue_processes_in_order_inline_while_idle_and_queues_behind_a_slow_hook_within_its_bounds()
    {
        var owner = new Owner();
        var queue = new InboundQueue(owner, maxMessages: 3, maxBytes: 100);
        Assert.True(queue.TryOffer(Text("before-open"), 10)); // queued: not processed before the connect hooks
        Assert.Empty(owner.Processed);
        queue.Open();
        await owner.WaitForAsync(1);
        Assert.Equal(["before-open"], owner.Processed);

        Assert.True(queue.TryOffer(Text("inline"), 10)); // idle: processed on this thread, before TryOffer returns
        Assert.Equal(["before-open", "inline"], owner.Processed);

        owner.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(queue.TryOffer(Text("slow"), 10));
        Assert.True(queue.TryOffer(Text("q1"), 60));
        Assert.False(queue.TryOffer(Text("q2"), 60)); // 120 bytes > 100 behind a slow hook
        Assert.True(queue.TryOffer(Text("q2"), 30));
        Assert.True(queue.TryOffer(Text("q3"), 1));
        Assert.False(queue.TryOffer(Text("q4"), 1)); // 3 messages
        Assert.Equal(3, queue.Count);
        Assert.Equal(91, queue.QueuedBytes);

        ValueTask<bool> waiting = queue.OfferAsync(Text("q4"), 1); // the receive loop pauses until there is room
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, owner.Pauses);
        owner.Gate.SetResult();
        Assert.True(await waiting.AsTask().DefaultTimeout("room in the inbound queue"));
        await owner.WaitForAsync(7);
        await queue.WhenIdleAsync().DefaultTimeout("the drain to end");
        Assert.Equal(["before-open", "inline", "slow", "q1", "q2", "q3", "q4"], owner.Processed);
        Assert.Equal(0, queue.QueuedBytes);
        Assert.Equal(0, owner.Pauses);
    }

    [Fact]
    public void The_heartbeat_pings_when_due_times_out_an_unanswered_ping_and_suspends_the_deadline_while_paused()
    {
        var heartbeat = default(HeartbeatState);
        const long Interval = 100, Timeout = 50;
        heartbeat.Start(now: 0, Interval);
        Assert.Equal(HeartbeatAction.None, heartbeat.OnTick(99, Interval, Timeout));
        Assert.Equal(HeartbeatAction.SendPing, heartbeat.OnTick(100, Interval, Timeout));
        Assert.Equal(HeartbeatAction.None, heartbeat.OnTick(149, Interval, Timeout));
        heartbeat.OnPong();
        Assert.Equal(HeartbeatAction.None, heartbeat.OnTick(160, Interval, Timeout)); // answered

        Assert.Equal(HeartbeatAction.SendPing, heartbeat.OnTick(200, Interval, Timeout));
        heartbeat.BeginPause(210);
        Assert.Equal(HeartbeatAction.None, heartbeat.OnTick(290, Interval, Timeout)); // paused: the deadline is suspended
        heartbeat.EndPause(290); // 80 of the pause came after the ping: the deadline moves from 250 to 330
        Assert.Equal(HeartbeatAction.None, heartbeat.OnTick(299, Interval, Timeout));
        Assert.Equal(HeartbeatAction.SendPing, heartbeat.OnTick(300, Interval, Timeout)); // the next ping is due; the old one still counts
        Assert.Equal(HeartbeatAction.TimedOut, heartbeat.OnTick(330, Interval, Timeout));
    }

    private static OutboundFrame Frame(int size) => new(new byte[size], IsBinary: false);

    private static Message Text(string type) => new(type, default(System.Text.Json.JsonElement));

    private sealed class Owner : IInboundOwner
    {
        private readonly WatchedList<string> _processed = new();

        public TaskCompletionSource? Gate { get; set; }

        public IReadOnlyList<string> Processed => _processed.Items;

        public int Pauses { get; private set; }

        public bool IsClosing => false;

        public async ValueTask ProcessAsync(Message message, InboundStamp stamp)
        {
            if (message.Type == "slow" && Gate is { } gate)
            {
                await gate.Task;
            }

            _processed.Add(message.Type!);
        }

        public void BeginPause(bool rateLimit) => Pauses++;

        void IInboundOwner.Processed(InboundStamp stamp)
        {
        }

        public void EndPause() => Pauses--;

        public bool BeginInlineProcessing() => false; // counted apart from the pauses these tests look at: none

        public Task WaitForAsync(int count) => _processed.WaitForAsync(p => p.Count >= count, $"{count} processed messages");
    }
}
