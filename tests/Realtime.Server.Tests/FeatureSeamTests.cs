using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Realtime.TestSupport;

namespace Realtime.Server.Tests;

/// <summary>
/// The feature seam (<see cref="RealtimeFeature"/>) through a small feature of the tests' own, on each of the three listeners: the
/// Realtime endpoint (protocol v1), the compatibility endpoint (<c>MapJsCollaboration</c>) and the dense listener (protocol v1 on
/// Kestrel's connection layer). The same feature code serves all three.
/// </summary>
public sealed class FeatureSeamTests
{
    public enum Listener
    {
        Endpoint,
        Compatibility,
        Dense,
    }

    [Theory]
    [InlineData(Listener.Endpoint)]
    [InlineData(Listener.Compatibility)]
    [InlineData(Listener.Dense)]
    public async Task Claimed_types_reach_the_feature_never_the_message_hooks_and_are_never_relayed(Listener listener)
    {
        var hooked = new ConcurrentQueue<string?>();
        var feature = new ProbeFeature();
        await using KestrelRealtimeHost host = await StartAsync(listener, feature, hooked);
        await using IPeer a = await ConnectAsync(host, listener, "room1");
        await using IPeer b = await ConnectAsync(host, listener, "room1");

        await a.SendAsync("probe", """{"echo":1}""");
        Assert.Equal(("probe", """{"echo":1}"""), await a.ReceiveAsync()); // the feature answered its sender
        await a.SendAsync("chat", "\"after\"");

        // Room broadcasts keep one order: what b gets first after the probe is the relayed chat, so the probe was not relayed.
        Assert.Equal(("chat", "\"after\""), await b.ReceiveAsync());
        Assert.Equal(["chat"], hooked);
        Assert.Equal(1, feature.Handled);
    }

    [Theory]
    [InlineData(Listener.Endpoint)]
    [InlineData(Listener.Compatibility)]
    [InlineData(Listener.Dense)]
    public async Task A_connections_claimed_messages_are_handled_one_at_a_time_in_its_order(Listener listener)
    {
        var feature = new ProbeFeature();
        await using KestrelRealtimeHost host = await StartAsync(listener, feature, new ConcurrentQueue<string?>());
        await using IPeer a = await ConnectAsync(host, listener, "room1");

        const int count = 60;
        for (int i = 0; i < count; i++)
        {
            await a.SendAsync("probe", $$"""{"n":{{i}},"yields":{{i % 7}}}""");
        }

        for (int i = 0; i < count; i++)
        {
            Assert.Equal(("probe", $$"""{"n":{{i}}}"""), await a.ReceiveAsync());
        }

        Assert.Equal(0, feature.Overlaps); // never two of one connection's messages in the feature at once
    }

    [Theory]
    [InlineData(Listener.Endpoint)]
    [InlineData(Listener.Compatibility)]
    [InlineData(Listener.Dense)]
    public async Task A_channel_broadcast_reaches_the_channels_members_but_the_sender_and_no_one_outside_it(Listener listener)
    {
        var feature = new ProbeFeature();
        await using KestrelRealtimeHost host = await StartAsync(listener, feature, new ConcurrentQueue<string?>());
        await using IPeer a = await ConnectAsync(host, listener, "room1");
        await using IPeer b = await ConnectAsync(host, listener, "room1");
        await using IPeer outside = await ConnectAsync(host, listener, "room1");
        await using IPeer otherRoom = await ConnectAsync(host, listener, "room2");

        foreach (IPeer member in new[] { a, b, otherRoom })
        {
            await member.SendAsync("probe", """{"join":true}""");
            Assert.Equal(("probe", """{"joined":true}"""), await member.ReceiveAsync());
        }

        await a.SendAsync("probe", """{"say":"hello"}""");
        await a.SendAsync("chat", "\"mark\"");

        Assert.Equal(("probe", """{"said":"hello"}"""), await b.ReceiveAsync());
        Assert.Equal(("chat", "\"mark\""), await b.ReceiveAsync());
        Assert.Equal(("chat", "\"mark\""), await outside.ReceiveAsync()); // not in the channel: the mark comes first
        await a.SendAsync("probe", """{"echo":2}""");
        Assert.Equal(("probe", """{"echo":2}"""), await a.ReceiveAsync()); // the sender: its own channel broadcast never came back

        await otherRoom.SendAsync("probe", """{"echo":3}""");
        Assert.Equal(("probe", """{"echo":3}"""), await otherRoom.ReceiveAsync()); // another room's channel of the same name: nothing
    }

    [Theory]
    [InlineData(Listener.Endpoint)]
    [InlineData(Listener.Compatibility)]
    [InlineData(Listener.Dense)]
    public async Task A_rooms_member_states_and_the_features_room_end_come_with_its_last_leave(Listener listener)
    {
        var feature = new ProbeFeature();
        await using KestrelRealtimeHost host = await StartAsync(listener, feature, new ConcurrentQueue<string?>());
        IPeer a = await ConnectAsync(host, listener, "ending");
        IPeer b = await ConnectAsync(host, listener, "ending");
        await a.SendAsync("probe", """{"states":true}""");
        Assert.Equal(2, JsonDocument.Parse((await a.ReceiveAsync()).Data).RootElement.GetProperty("states").GetArrayLength());

        await a.DisposeAsync();
        Assert.Equal("ending", await feature.Left.Reader.ReadAsync().AsTask().DefaultTimeout("a's leave"));
        Assert.False(feature.EndedRoom.Task.IsCompleted);
        await b.DisposeAsync();
        Assert.Equal("ending", await feature.Left.Reader.ReadAsync().AsTask().DefaultTimeout("b's leave"));
        await feature.EndedRoom.Task.DefaultTimeout("the room's end");

        // The feature removed no state on leave; the room's end took both with it: a new member finds its own only.
        await using IPeer c = await ConnectAsync(host, listener, "ending");
        await c.SendAsync("probe", """{"states":true}""");
        JsonElement states = JsonDocument.Parse((await c.ReceiveAsync()).Data).RootElement.GetProperty("states");
        Assert.Equal([c.Id], states.EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task A_channel_broadcast_that_reaches_a_joining_member_waits_for_its_welcome_and_a_failed_welcome_joins_nothing()
    {
        var feature = new ProbeFeature();
        await using KestrelRealtimeHost host = await StartAsync(Listener.Endpoint, feature, new ConcurrentQueue<string?>());
        await using IPeer member = await ConnectAsync(host, Listener.Endpoint, "room1");
        await using IPeer joining = await ConnectAsync(host, Listener.Endpoint, "room1");
        await using IPeer failing = await ConnectAsync(host, Listener.Endpoint, "room1");
        await member.SendAsync("probe", """{"join":true}""");
        Assert.Equal(("probe", """{"joined":true}"""), await member.ReceiveAsync());

        // The welcome waits on a gate; meanwhile a broadcast to the channel reaches the joining member: it is held, then follows the welcome.
        await joining.SendAsync("probe", """{"joinGated":true}""");
        await feature.GateReached.Task.DefaultTimeout("the gated welcome to start");
        await member.SendAsync("probe", """{"say":"during"}""");
        await member.SendAsync("probe", """{"echo":"said"}""");
        Assert.Equal(("probe", """{"echo":"said"}"""), await member.ReceiveAsync()); // the broadcast has been delivered (held) by now
        feature.Gate.TrySetResult();
        Assert.Equal(("probe", """{"joined":"late"}"""), await joining.ReceiveAsync());
        Assert.Equal(("probe", """{"said":"during"}"""), await joining.ReceiveAsync());

        // A welcome that fails leaves the connection out of the channel, and drops what was held for it.
        await failing.SendAsync("probe", """{"joinFailing":true}""");
        Assert.Equal(("probe", """{"failed":true}"""), await failing.ReceiveAsync());
        await member.SendAsync("probe", """{"say":"after"}""");
        await member.SendAsync("chat", "\"mark\"");
        Assert.Equal(("probe", """{"said":"after"}"""), await joining.ReceiveAsync());
        Assert.Equal(("chat", "\"mark\""), await failing.ReceiveAsync()); // no channel broadcast before the room-wide mark
    }

    [Fact]
    public void Two_features_cannot_claim_one_type_nor_share_a_name()
    {
        using ServiceProvider services = new ServiceCollection().AddLogging().AddRealtime().Services.BuildServiceProvider();
        RealtimeServer server = services.GetRequiredService<RealtimeServer>();
        server.UseFeature(new ProbeFeature());
        Assert.Throws<ArgumentException>(() => server.UseFeature(new ProbeFeature()));
        Assert.Throws<ArgumentException>(() => server.UseFeature(new OtherClaimingProbe()));
    }

    private static Task<KestrelRealtimeHost> StartAsync(Listener listener, RealtimeFeature feature, ConcurrentQueue<string?> hooked)
        => KestrelRealtimeHost.StartAsync(listener == Listener.Dense ? HostMode.Dense : HostMode.Endpoint, configureServer: server =>
        {
            server.UseFeature(feature);
            server.On(ServerEvents.Message, ctx =>
            {
                hooked.Enqueue(ctx.Message.Type);
                ctx.Connection.Broadcast(ctx.Message);
            });
        });

    private static Task<IPeer> ConnectAsync(KestrelRealtimeHost host, Listener listener, string roomId)
        => Peers.ConnectAsync(host, listener == Listener.Compatibility, roomId);

    /// <summary>
    /// The tests' feature, type <c>probe</c>: <c>{"echo":x}</c> comes back to its sender; <c>{"n":i,"yields":k}</c> yields k times, then
    /// comes back as <c>{"n":i}</c>; <c>{"join":true}</c> joins the room's channel <c>probes</c>; <c>{"say":s}</c> goes to that channel
    /// but the sender as <c>{"said":s}</c>; <c>{"states":true}</c> answers the room's member-state ids. Every member gets a state on entering.
    /// </summary>
    private sealed class ProbeFeature() : RealtimeFeature("probe", ["probe"])
    {
        private int _inside;

        public int Handled;

        public int Overlaps;

        public System.Threading.Channels.Channel<string> Left { get; } = System.Threading.Channels.Channel.CreateUnbounded<string>();

        public TaskCompletionSource EndedRoom { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource GateReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async ValueTask OnEnterAsync(ServerConnection connection, CancellationToken cancellationToken)
            => await SetMemberStateAsync(connection.RoomId, connection.Id, "true"u8.ToArray(), 10, cancellationToken);

        protected override ValueTask OnLeaveAsync(string roomId, string connectionId, ServerConnection? connection, CancellationToken cancellationToken)
        {
            Left.Writer.TryWrite(roomId);
            return ValueTask.CompletedTask;
        }

        protected override void OnRoomEnded(string roomId) => EndedRoom.TrySetResult();

        protected override async ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _inside) > 1)
            {
                Interlocked.Increment(ref Overlaps);
            }

            try
            {
                Interlocked.Increment(ref Handled);
                JsonElement data = message.Data;
                if (data.TryGetProperty("n", out JsonElement n))
                {
                    for (int i = data.GetProperty("yields").GetInt32(); i > 0; i--)
                    {
                        await Task.Yield();
                    }

                    Send(connection, Reply(new { n = n.GetInt32() }));
                }
                else if (data.TryGetProperty("join", out _))
                {
                    await JoinChannelAsync(connection, "probes", _ => ValueTask.FromResult<Message?>(Reply(new { joined = true })), cancellationToken);
                }
                else if (data.TryGetProperty("joinGated", out _))
                {
                    await JoinChannelAsync(connection, "probes", async _ =>
                    {
                        GateReached.TrySetResult();
                        await Gate.Task;
                        return Reply(new { joined = "late" });
                    }, cancellationToken);
                }
                else if (data.TryGetProperty("joinFailing", out _))
                {
                    try
                    {
                        await JoinChannelAsync(connection, "probes", _ => throw new InvalidOperationException("the snapshot could not be read"), cancellationToken);
                    }
                    catch (InvalidOperationException)
                    {
                        Send(connection, Reply(new { failed = true }));
                    }
                }
                else if (data.TryGetProperty("say", out JsonElement say))
                {
                    Broadcast(connection.RoomId, "probes", Reply(new { said = say.GetString() }), connection.Id);
                }
                else if (data.TryGetProperty("states", out _))
                {
                    IReadOnlyDictionary<string, ReadOnlyMemory<byte>> states = await GetMemberStatesAsync(connection.RoomId, cancellationToken);
                    Send(connection, Reply(new { states = states.Keys }));
                }
                else
                {
                    Send(connection, message);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }

        private static Message Reply<T>(T data) => new("probe", JsonSerializer.SerializeToElement(data));
    }

    private sealed class OtherClaimingProbe() : RealtimeFeature("other", ["probe"])
    {
        protected override ValueTask OnMessageAsync(ServerConnection connection, Message message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
