extern alias server;

using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Server;
using Realtime.Server.Internal;
using Realtime.Server.Internal.Protocols;
using OutboundFrame = server::Realtime.Internal.OutboundFrame;

namespace Realtime.Server.Tests.Units;

/// <summary>The server's building blocks on their own: room index, hook and middleware lists, connection limiter, token bucket.</summary>
public class BuildingBlockTests
{
    private static readonly OutboundFrame Frame = new(new byte[] { 1 }, IsBinary: false);
    private static readonly ProtocolV1 V1 = new(System.Text.Json.JsonSerializerOptions.Default);

    private static bool Add(RoomIndex<Member> index, Member member) => index.AddAsync(member, Frame).AsTask().GetAwaiter().GetResult();

    private static RoomBroadcast Broadcast(string roomId) => new(roomId, new Message("t", default(System.Text.Json.JsonElement)), exceptConnectionId: null, originNodeId: "node");

    [Fact]
    public void Emptying_a_large_room_compares_no_members_each_leave_is_constant_time()
    {
        var index = new RoomIndex<Member>();
        const int Members = 3000;
        Member[] members = Enumerable.Range(0, Members).Select(_ => new Member("big")).ToArray();
        foreach (Member member in members)
        {
            Add(index, member);
        }

        Member.EqualsCalls = 0;
        bool destroyed = false;
        foreach (Member member in members.Where((_, i) => i % 2 == 0).Reverse().Concat(members.Where((_, i) => i % 2 == 1)))
        {
            destroyed = index.Remove(member);
        }

        Assert.True(destroyed);
        Assert.Empty(index.RoomIds);
        Assert.True(Member.EqualsCalls <= Members, $"emptying a room of {Members} made {Member.EqualsCalls} member comparisons");
    }

    [Fact]
    public void A_broadcast_reaches_every_member_but_the_excepted_one_and_a_leaver_no_more()
    {
        var index = new RoomIndex<Member>();
        Member a = new("r"), b = new("r"), c = new("r"), other = new("s");
        Assert.True(Add(index, a));   // created the room
        Assert.False(Add(index, b));
        Assert.False(Add(index, c));
        Assert.True(Add(index, other));
        index.Deliver(Broadcast("r"), b, long.MaxValue, 0, out _, out _);
        Assert.Equal([2, 1, 2, 1], new[] { a.Received, b.Received, c.Received, other.Received });

        Assert.False(index.Remove(a));
        Assert.False(index.Remove(a)); // not a member any more: nothing happens
        index.Deliver(Broadcast("r"), null, long.MaxValue, 0, out _, out _);
        Assert.Equal([2, 2, 3], new[] { a.Received, b.Received, c.Received });
        Assert.Equal([b, c], index.GetMembers("r").OrderBy(m => m.Received));
        Assert.False(index.Remove(b));
        Assert.True(index.Remove(c));
        Assert.Equal(["s"], index.RoomIds);
    }

    [Fact]
    public async Task Concurrent_joins_and_leaves_never_lose_a_member_to_a_removed_room()
    {
        var index = new RoomIndex<Member>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                var member = new Member("hot");
                Add(index, member);
                Assert.Equal(0, index.Deliver(Broadcast("hot"), null, long.MaxValue, 0, out _, out string? problem));
                Assert.Null(problem);
                Assert.Contains(member, index.GetMembers("hot"));
                index.Remove(member);
            }
        })));
        Assert.Empty(index.RoomIds);
    }

    [Fact]
    public async Task Hooks_run_in_order_and_one_that_throws_does_not_stop_the_others()
    {
        var hooks = new HookList<List<string>>("message");
        hooks.Add(l => { l.Add("first"); return ValueTask.CompletedTask; });
        hooks.Add(_ => throw new InvalidOperationException("boom"));
        hooks.Add(async l => { await Task.Yield(); l.Add("third"); });
        var logs = new LogSink();
        var seen = new List<string>();
        await hooks.InvokeAsync(seen, logs.CreateLogger("test"), "c1");
        Assert.Equal(["first", "third"], seen);
        Assert.Equal("HookFailed", Assert.Single(logs.Errors).EventName);
    }

    [Fact]
    public async Task Middleware_runs_in_order_and_one_that_does_not_call_next_stops_the_pipeline()
    {
        var middleware = new MiddlewareList<List<string>>();
        Assert.True(middleware.IsEmpty);
        middleware.Add(async (l, next) => { l.Add("a>"); await next(); l.Add("<a"); });
        middleware.Add(async (l, next) => { l.Add("b"); if (l.Count < 10) { await next(); } });
        var seen = new List<string>();
        await middleware.InvokeAsync(seen, () => { seen.Add("terminal"); return ValueTask.CompletedTask; });
        Assert.Equal(["a>", "b", "terminal", "<a"], seen);

        seen = [.. Enumerable.Repeat("x", 10)];
        await middleware.InvokeAsync(seen, () => { seen.Add("terminal"); return ValueTask.CompletedTask; });
        Assert.DoesNotContain("terminal", seen);
    }

    [Fact]
    public void The_connection_limiter_counts_the_server_and_each_address_and_gives_slots_back_once()
    {
        var limiter = new ConnectionLimiter(new RealtimeOptions { MaxConnections = 3, MaxConnectionsPerIpAddress = 2 });
        IPAddress one = IPAddress.Parse("127.0.0.1"), mapped = IPAddress.Parse("::ffff:127.0.0.1"), two = IPAddress.Parse("127.0.0.2");
        var (o1, s1) = limiter.TryAdmit(one);
        var (o2, s2) = limiter.TryAdmit(mapped); // the same address, written as IPv6
        var (o3, _) = limiter.TryAdmit(one);
        Assert.Equal([ConnectionLimiter.Outcome.Admitted, ConnectionLimiter.Outcome.Admitted, ConnectionLimiter.Outcome.AddressFull], new[] { o1, o2, o3 });
        var (o4, s4) = limiter.TryAdmit(two);
        var (o5, _) = limiter.TryAdmit(null);
        Assert.Equal([ConnectionLimiter.Outcome.Admitted, ConnectionLimiter.Outcome.ServerFull], new[] { o4, o5 });

        s1!.Dispose();
        s1.Dispose(); // once only
        Assert.Equal(ConnectionLimiter.Outcome.Admitted, limiter.TryAdmit(one).Outcome);
        Assert.Equal(ConnectionLimiter.Outcome.ServerFull, limiter.TryAdmit(two).Outcome);
        s2!.Dispose();
        s4!.Dispose();
    }

    [Fact]
    public void The_token_bucket_spends_its_burst_then_says_how_long_until_the_next_token()
    {
        const long Frequency = TimeSpan.TicksPerSecond;
        var bucket = new TokenBucket(perSecond: 10, size: 3, Frequency);
        long now = 1_000 * Frequency;
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero], new[] { bucket.TryTake(now), bucket.TryTake(now), bucket.TryTake(now) });
        TimeSpan wait = bucket.TryTake(now);
        Assert.Equal(TimeSpan.FromMilliseconds(100), wait);
        Assert.Equal(wait, bucket.TryTake(now)); // asking again takes nothing
        now += wait.Ticks;
        Assert.Equal(TimeSpan.Zero, bucket.TryTake(now)); // waiting exactly that long finds the token
        now += 10 * Frequency;
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero], new[] { bucket.TryTake(now), bucket.TryTake(now), bucket.TryTake(now) });
        Assert.NotEqual(TimeSpan.Zero, bucket.TryTake(now)); // a long pause refills no more than the bucket's size
    }

    /// <summary>A room member that counts what it receives and how often it is compared.</summary>
    private sealed class Member(string roomId) : IRoomMember
    {
        public static int EqualsCalls;

        public string RoomId { get; } = roomId;

        public int RoomSlot { get; set; } = -1;

        public RealtimeProtocol Protocol => V1;

        public int Received { get; private set; }

        public void Enqueue(OutboundFrame frame) => Received++;

        public override bool Equals(object? obj)
        {
            Interlocked.Increment(ref EqualsCalls);
            return ReferenceEquals(this, obj);
        }

        public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
    }
}
