extern alias server;

using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;
using OutboundFrame = server::Realtime.Internal.OutboundFrame;

namespace Realtime.Server.Tests.Units;

/// <summary>
/// The room index with a backplane whose subscriptions take time or fail: a joiner waits for its room's subscription, a room's
/// subscribe and unsubscribe never overtake each other, and a failure refuses the joiner without wedging the room.
/// </summary>
public class RoomSubscriptionTests
{
    private static readonly OutboundFrame First = new(new byte[] { 1 }, IsBinary: false);
    private static readonly ProtocolV1 V1 = new(System.Text.Json.JsonSerializerOptions.Default);

    [Fact]
    public async Task Joiners_wait_for_the_room_s_subscription_and_get_their_first_frame_only_after_it()
    {
        var backplane = new ScriptedBackplane();
        var index = backplane.CreateIndex();
        var subscription = backplane.NextSubscribe();
        var a = new Member("r");
        var b = new Member("r");
        ValueTask<bool> joinA = index.AddAsync(a, First);
        ValueTask<bool> joinB = index.AddAsync(b, First);
        Assert.False(joinA.IsCompleted);
        Assert.False(joinB.IsCompleted);
        index.Deliver(Broadcast("r"), except: null, long.MaxValue, channelMask: 0, out _, out _); // no member yet: reaches nobody
        Assert.Empty(index.RoomIds);

        subscription.SetResult();
        bool[] created = [await joinA.AsTask().DefaultTimeout("the first join"), await joinB.AsTask().DefaultTimeout("the second join")];
        Assert.Single(created, c => c); // whichever the subscription let in first created the room
        Assert.Equal([1, 1], new[] { a.Received, b.Received }); // the first frame, and not the broadcast sent before
        Assert.Equal(["subscribe r"], backplane.Calls);
    }

    [Fact]
    public async Task A_room_s_next_subscription_starts_only_after_its_previous_unsubscription_completed()
    {
        var backplane = new ScriptedBackplane();
        var index = backplane.CreateIndex();
        var a = new Member("r");
        Assert.True(await index.AddAsync(a, First).AsTask().DefaultTimeout("the join"));
        var unsubscription = backplane.NextUnsubscribe();
        Assert.True(index.Remove(a));

        var b = new Member("r");
        ValueTask<bool> joinB = index.AddAsync(b, First);
        Assert.False(joinB.IsCompleted);
        Assert.Equal(["subscribe r", "unsubscribe r"], backplane.Calls); // the new subscribe waits

        unsubscription.SetResult();
        Assert.True(await joinB.AsTask().DefaultTimeout("the join after the unsubscription"));
        Assert.Equal(["subscribe r", "unsubscribe r", "subscribe r"], backplane.Calls);
    }

    [Fact]
    public async Task A_failed_subscription_refuses_its_joiners_and_the_next_join_subscribes_again()
    {
        var backplane = new ScriptedBackplane();
        var index = backplane.CreateIndex();
        var subscription = backplane.NextSubscribe();
        ValueTask<bool> join = index.AddAsync(new Member("r"), First);
        subscription.SetException(new InvalidOperationException("the backplane is down"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => join.AsTask().DefaultTimeout("the failed join"));
        Assert.Empty(index.RoomIds);

        var member = new Member("r");
        Assert.True(await index.AddAsync(member, First).AsTask().DefaultTimeout("the next join"));
        Assert.Equal(1, member.Received);
        Assert.Equal(["subscribe r", "subscribe r"], backplane.Calls);
    }

    [Fact]
    public async Task A_failed_unsubscription_is_reported_and_the_room_can_be_joined_again()
    {
        var backplane = new ScriptedBackplane();
        var index = backplane.CreateIndex();
        var a = new Member("r");
        await index.AddAsync(a, First).AsTask().DefaultTimeout("the join");
        var unsubscription = backplane.NextUnsubscribe();
        index.Remove(a);
        unsubscription.SetException(new InvalidOperationException("the backplane is down"));
        await backplane.UnsubscribeFailures.WaitForAsync(f => f.Count == 1, "the failure to be reported");
        Assert.Equal(["r"], backplane.UnsubscribeFailures.Items);

        Assert.True(await index.AddAsync(new Member("r"), First).AsTask().DefaultTimeout("the join after a failed unsubscription"));
    }

    private static RoomBroadcast Broadcast(string roomId) => new(roomId, new Message("t", default(System.Text.Json.JsonElement)), exceptConnectionId: null, originNodeId: "node");

    /// <summary>Subscribe and unsubscribe calls that complete at once, or when the test says (one scripted call at a time).</summary>
    private sealed class ScriptedBackplane
    {
        private readonly Queue<TaskCompletionSource> _subscribes = new();
        private readonly Queue<TaskCompletionSource> _unsubscribes = new();

        public List<string> Calls { get; } = [];

        public WatchedList<string> UnsubscribeFailures { get; } = new();

        public RoomIndex<Member> CreateIndex() => new(
            roomId => Call("subscribe", roomId, _subscribes),
            roomId => Call("unsubscribe", roomId, _unsubscribes),
            (roomId, _) => UnsubscribeFailures.Add(roomId));

        public TaskCompletionSource NextSubscribe() => Enqueue(_subscribes);

        public TaskCompletionSource NextUnsubscribe() => Enqueue(_unsubscribes);

        private static TaskCompletionSource Enqueue(Queue<TaskCompletionSource> queue)
        {
            var call = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            queue.Enqueue(call);
            return call;
        }

        private ValueTask Call(string what, string roomId, Queue<TaskCompletionSource> scripted)
        {
            lock (Calls)
            {
                Calls.Add($"{what} {roomId}");
            }

            return scripted.TryDequeue(out TaskCompletionSource? call) ? new ValueTask(call.Task) : ValueTask.CompletedTask;
        }
    }

    private sealed class Member(string roomId) : IRoomMember
    {
        public string RoomId { get; } = roomId;

        public RealtimeProtocol Protocol => V1;

        public int RoomSlot { get; set; } = -1;

        public int Received { get; private set; }

        public void Enqueue(OutboundFrame frame) => Received++;
    }
}
